import type { ActorContext, ActorDefinition, LogLevel } from "./define_actor.ts";
import { issuesText } from "./issues_text.ts";
import type { Recovery } from "./journal.ts";
import type { Priority } from "./priority_mailbox.ts";

/** How a behaviour reaches the rest of the system, from a worker or from the main thread. */
export interface SystemPort {
  tell(from: string, to: string, message: unknown, priority: Priority): void;
  ask(from: string, to: string, message: unknown, timeoutMs: number): Promise<unknown>;
  publish(from: string, topic: string, message: unknown): void;
  subscribe(actor: string, topic: string): void;
  log(actor: string, level: LogLevel, text: string): void;
  persist(actor: string, event: unknown): Promise<void>;
  snapshot(actor: string, state: unknown): Promise<void>;
  recover(actor: string): Promise<Recovery>;
}

export type HandleOutcome =
  /** `durable`: when the events the message persisted are stored; its reply waits for it. */
  | { kind: "ok"; reply: unknown; stop: boolean; durable?: Promise<void> }
  | { kind: "invalid"; reason: string };

export const DEFAULT_ASK_TIMEOUT_MS = 5_000;

const RESOLVED = Promise.resolve();
/** The outcome of most messages: no reply, no stop, nothing persisted (shared, not made each time). */
export const NOTHING: HandleOutcome = Object.freeze({ kind: "ok", reply: undefined, stop: false });

/** Runs one behaviour: the part of an actor that is identical inline and in a worker. */
export class BehaviourRunner {
  readonly #ctx: ActorContext<unknown>;
  #stopRequested = false;
  #sinceSnapshot = 0;
  /** What the message being handled persisted and is not yet stored. */
  #unsaved: Promise<void>[] = [];

  constructor(
    readonly id: string,
    readonly definition: ActorDefinition<unknown, unknown>,
    readonly port: SystemPort,
  ) {
    this.#ctx = {
      self: id,
      state: undefined,
      tell: (to, message, options) => port.tell(id, to, message, options?.priority ?? "normal"),
      ask: <R>(to: string, message: unknown, options?: { timeoutMs?: number }) =>
        port.ask(id, to, message, options?.timeoutMs ?? DEFAULT_ASK_TIMEOUT_MS) as Promise<R>,
      publish: (topic, message) => port.publish(id, topic, message),
      subscribe: (topic) => port.subscribe(id, topic),
      log: (text, level = "info") => port.log(id, level, text),
      persist: (event) => this.#persist(event),
      stop: () => {
        this.#stopRequested = true;
      },
    };
  }

  /** Builds the state with `init`, then replays what a persistent actor stored before. */
  async init(args: unknown): Promise<void> {
    const { state: _state, persist: _persist, ...initContext } = this.#ctx;
    if (this.definition.init) this.#ctx.state = await this.definition.init(args, initContext);
    const persistence = this.definition.persistence;
    if (!persistence) return;
    const recovery = await this.port.recover(this.id);
    if (recovery.snapshot) this.#ctx.state = recovery.snapshot.state;
    for (const event of recovery.events) {
      this.#ctx.state = persistence.apply(this.#ctx.state, event);
    }
    this.#sinceSnapshot = recovery.events.length;
  }

  /**
   * Applies an event at once and sends it to be stored; the message's reply waits until it is
   * (see `HandleOutcome.durable`). So the events of consecutive messages share the journal's
   * commits, as event-sourcing journals batch them, while messages are still handled one at a
   * time. The journal keeps them in the order they were persisted.
   */
  #persist(event: unknown): Promise<void> {
    const persistence = this.definition.persistence;
    if (!persistence) {
      return Promise.reject(
        new Error(
          `actor "${this.id}" called persist() but its behaviour declares no persistence.apply`,
        ),
      );
    }
    this.#store(this.port.persist(this.id, event));
    this.#ctx.state = persistence.apply(this.#ctx.state, event);
    if (++this.#sinceSnapshot >= (persistence.snapshotEvery ?? 100)) {
      this.#sinceSnapshot = 0;
      this.#store(this.port.snapshot(this.id, this.#ctx.state));
    }
    return RESOLVED;
  }

  #store(stored: Promise<void>): void {
    stored.catch(() => {}); // its failure is the message's, reported with the reply
    this.#unsaved.push(stored);
  }

  /**
   * Validates and handles one message. Throws (a crash) when the behaviour throws; returns a
   * promise only when the behaviour's `receive` does, so that a synchronous behaviour costs no
   * microtask turns.
   */
  handle(message: unknown): HandleOutcome | Promise<HandleOutcome> {
    let input = message;
    if (this.definition.messages) {
      const parsed = this.definition.messages.safeParse(message);
      if (!parsed.success) return { kind: "invalid", reason: issuesText(parsed.error) };
      input = parsed.data;
    }
    // Events a message that threw had persisted are not this one's (no new array per message).
    if (this.#unsaved.length > 0) this.#unsaved = [];
    const reply = this.definition.receive(input, this.#ctx);
    return isPromise(reply) ? Promise.resolve(reply).then((r) => this.#done(r)) : this.#done(reply);
  }

  #done(reply: unknown): HandleOutcome {
    const unsaved = this.#unsaved;
    // Most messages are told, not asked, store nothing and stop nothing: one shared outcome.
    if (reply === undefined && !this.#stopRequested && unsaved.length === 0) return NOTHING;
    const stop = this.#stopRequested;
    this.#stopRequested = false;
    if (unsaved.length === 0) return { kind: "ok", reply, stop };
    this.#unsaved = [];
    const durable = Promise.all(unsaved).then(() => {});
    durable.catch(() => {}); // the drain reports it
    return { kind: "ok", reply, stop, durable };
  }

  async terminate(reason: "normal" | "shutdown"): Promise<void> {
    await this.definition.terminate?.(this.#ctx, reason);
  }
}

/** Loads a behaviour module and checks that its default export is an actor definition. */
export async function loadBehaviour(url: string): Promise<ActorDefinition<unknown, unknown>> {
  return checkBehaviour((await import(url)).default, url);
}

export function checkBehaviour(def: unknown, url: string): ActorDefinition<unknown, unknown> {
  if (
    !def || typeof def !== "object" || typeof (def as { receive?: unknown }).receive !== "function"
  ) {
    throw new Error(
      `behaviour module ${url} must export default defineActor({ receive, ... }); ` +
        `its default export is ${def === undefined ? "missing" : typeof def}`,
    );
  }
  return def as ActorDefinition<unknown, unknown>;
}

/** A value to await: a promise or any thenable, as `await` treats them. */
export function isPromise<T>(v: unknown): v is PromiseLike<T> {
  return typeof (v as { then?: unknown } | null)?.then === "function";
}
