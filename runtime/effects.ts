import { AsyncLocalStorage } from "node:async_hooks";
import { z } from "zod";
import { canonicalJson } from "./canonical_json.ts";
import { TroupeError } from "./errors.ts";
import { sha256Hex } from "./sha256.ts";

/**
 * One thing an actor learnt from outside while it handled a message: a file read, a directory
 * listed, a process run, the clock, a random number. `key` names what was asked (a path, a
 * command), `value` is what came back. A handler's effects, in order, are what make its result
 * repeatable: fed back in the same order, the same code gives the same result.
 */
export const Effect = z.object({
  kind: z.string(),
  key: z.string(),
  value: z.unknown(),
  /** The call failed with this message (a replay fails it again). */
  error: z.string().optional(),
});
/** One effect, as the log holds it. */
export type Effect = z.output<typeof Effect>;

/**
 * A replay asked for another effect than the one recorded at that place, or a read done again
 * (`pinned`) gave other bytes than it gave then.
 */
export class EffectDivergence extends TroupeError<"effect_divergence"> {
  constructor(readonly index: number, expected: Effect | undefined, actual: Effect) {
    const same = expected && expected.kind === actual.kind && expected.key === actual.key;
    super(
      "effect_divergence",
      same
        ? `at effect ${index}, ${actual.kind} ${actual.key} gives other bytes now than in the ` +
          "recording: what it reads changed since the run"
        : `at effect ${index} the code asked for ${actual.kind} ${actual.key}, but the ` +
          `recording ${expected ? `has ${expected.kind} ${expected.key} there` : "ends before it"}`,
      { index, expected: expected && { kind: expected.kind, key: expected.key } },
    );
  }
}

/**
 * The effects of one message: recorded as they happen, or answered from a recording without
 * doing them (nothing outside is called then). An effect takes its place in the log when it is
 * asked for, not when it completes, so calls made at once keep the order the code made them in.
 * A replay that asks for something else than was recorded at that place stops with
 * `EffectDivergence`: the code has gone another way.
 */
export class EffectLog {
  readonly effects: Effect[] = [];

  /** Records, or with `recorded` replays those effects in order. */
  constructor(readonly recorded?: readonly Effect[]) {}

  /** The value of an outside call: `produce`d and recorded, or the recorded one. */
  async fed<T>(kind: string, key: string, produce: () => Promise<T> | T): Promise<T> {
    const place = this.#take(kind, key);
    if (this.recorded) {
      const was = this.effects[place] = this.recorded[place];
      if (was.error !== undefined) throw new Error(was.error);
      return was.value as T;
    }
    try {
      const value = await produce();
      this.effects[place] = { kind, key, value: value === undefined ? null : value };
      return value;
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      this.effects[place] = { kind, key, value: null, error };
      throw err;
    }
  }

  /**
   * A read done again in a replay (a file of the repository): the log holds the SHA-256 of what
   * it gave, not the bytes, and a replay that reads something else diverges there.
   */
  async pinned<T>(kind: string, key: string, produce: () => Promise<T> | T): Promise<T> {
    const place = this.#take(kind, key);
    const value = await produce();
    const pin = { kind, key, value: digest(value) };
    this.effects[place] = pin;
    const expected = this.recorded?.[place];
    if (expected && expected.value !== pin.value) {
      throw new EffectDivergence(place, expected, pin);
    }
    return value;
  }

  /** The next place in the log; on a replay, checked against what was recorded there. */
  #take(kind: string, key: string): number {
    const place = this.effects.length;
    this.effects.push({ kind, key, value: null });
    const expected = this.recorded?.[place];
    if (this.recorded && (!expected || expected.kind !== kind || expected.key !== key)) {
      throw new EffectDivergence(place, expected, { kind, key, value: null });
    }
    return place;
  }
}

const current = new AsyncLocalStorage<EffectLog>();

/** The effect log of the message being handled, if any. */
export function currentEffects(): EffectLog | undefined {
  return current.getStore();
}

/** Runs `fn` with `log` as the effect log of everything it awaits. */
export function withEffects<T>(log: EffectLog, fn: () => Promise<T>): Promise<T> {
  return current.run(log, fn);
}

/**
 * An outside call through the current message's effect log: recorded, or answered from the
 * recording. Outside a message (a library call, a test) it is simply made.
 */
export function fed<T>(kind: string, key: string, produce: () => Promise<T> | T): Promise<T> {
  const log = current.getStore();
  return log ? log.fed(kind, key, produce) : Promise.resolve(produce());
}

/** A read done again in a replay, pinned by its digest (see `EffectLog.pinned`). */
export function pinned<T>(kind: string, key: string, produce: () => Promise<T> | T): Promise<T> {
  const log = current.getStore();
  return log ? log.pinned(kind, key, produce) : Promise.resolve(produce());
}

/** The SHA-256 (hex) of a value: of its bytes or text, or of its canonical JSON. */
function digest(value: unknown): string {
  return sha256Hex(
    value instanceof Uint8Array || typeof value === "string" ? value : canonicalJson(value),
  );
}

/** Wall-clock time in ms, recorded: what an actor reads as "now". */
export function clockNow(): Promise<number> {
  return fed("clock", "now", () => Date.now());
}

/** A number in [0, 1), recorded. */
export function randomNumber(): Promise<number> {
  return fed("random", "number", () => Math.random());
}

/** A random UUID, recorded. */
export function randomId(): Promise<string> {
  return fed("random", "uuid", () => crypto.randomUUID());
}

/**
 * A path as a key that is the same in a recording and its replay: the random part of a
 * troupe temporary folder (`troupe-scratch-a1b2c3`) is left out.
 */
export function stablePath(path: string): string {
  return path.replace(/(troupe-[a-z]+-)[A-Za-z0-9_]+/g, "$1*");
}
