import type { Child, Exit } from "./child.ts";
import type { ErrorInfo } from "./errors.ts";
import type { EventStream } from "./event_stream.ts";
import { type Clock, sleep } from "./clock.ts";
import { type Backoff, childId, type ChildSpec, type SupervisorSpec } from "./supervisor_spec.ts";

interface Entry {
  spec: ChildSpec;
  child: Child;
}

/** Builds the child for a spec; the system supplies it so that cells join its registry. */
export type ChildFactory = (spec: ChildSpec, parent: Supervisor) => Child;

/** What a supervisor needs from its system. */
export interface SupervisorEnvironment {
  events: EventStream;
  clock: Clock;
  factory: ChildFactory;
  /** The supervisor was disposed: its id leaves the system. */
  released(id: string): void;
}

/** Delay before the n-th restart within the period: exponential, capped, with jitter. */
export function backoffDelay(backoff: Backoff, n: number): number {
  const base = Math.min(backoff.maxMs, backoff.minMs * 2 ** Math.max(0, n - 1));
  return base * (1 + Math.random() * backoff.randomFactor);
}

/**
 * An OTP supervisor: starts children in order, restarts them by strategy and restart type,
 * and gives up (escalating to its own parent) after more than `intensity` restarts in
 * `periodMs`. Restarts are handled one at a time so that overlapping crashes stay ordered.
 */
export class Supervisor implements Child {
  /** By child id, in start order (a Map keeps insertion order; lookups stay O(1) at any size). */
  readonly #entries = new Map<string, Entry>();
  #restarts: number[] = [];
  #queue: Promise<void> = Promise.resolve();
  #running = false;
  onExit: (exit: Exit) => void = () => {};

  readonly events: EventStream;

  constructor(readonly spec: SupervisorSpec, readonly env: SupervisorEnvironment) {
    this.events = env.events;
    for (const childSpec of spec.children) this.#add(childSpec);
  }

  /** The supervisor's id, unique in its system. */
  get id(): string {
    return this.spec.id;
  }

  /** Its children, in start order. */
  get children(): readonly Child[] {
    return [...this.#entries.values()].map((e) => e.child);
  }

  /** Starts every child in order; on a failure, stops those started and rethrows. */
  async start(): Promise<void> {
    this.#restarts = [];
    const started: Entry[] = [];
    for (const entry of this.#entries.values()) {
      try {
        await entry.child.start();
        started.push(entry);
      } catch (err) {
        for (const s of started.reverse()) await s.child.stop(s.spec.shutdownMs);
        throw err;
      }
    }
    this.#running = true;
  }

  /** Adds and starts a child under this supervisor. */
  async startChild(spec: ChildSpec): Promise<Child> {
    if (this.#entries.has(childId(spec))) {
      throw new Error(`supervisor "${this.id}" already has a child "${childId(spec)}"`);
    }
    const entry = this.#add(spec);
    try {
      await entry.child.start();
    } catch (err) {
      this.#entries.delete(entry.child.id);
      entry.child.dispose("it failed to start");
      throw err;
    }
    return entry.child;
  }

  /** Stops a child and forgets it: it is not restarted and its id is free again. */
  async removeChild(id: string, deadlineMs: number): Promise<boolean> {
    await this.#queue;
    const entry = this.#entries.get(id);
    if (!entry) return false;
    this.#entries.delete(id);
    await entry.child.stop(Math.min(deadlineMs, entry.spec.shutdownMs));
    entry.child.dispose("it was removed from its supervisor");
    return true;
  }

  /** Stops every child, last started first, within `deadlineMs`. */
  async stop(deadlineMs: number): Promise<void> {
    this.#running = false;
    await this.#queue;
    const started = performance.now();
    for (const entry of [...this.#entries.values()].reverse()) {
      const left = Math.max(
        1,
        Math.min(entry.spec.shutdownMs, deadlineMs - (performance.now() - started)),
      );
      await entry.child.stop(left);
    }
  }

  /** Releases every child and frees this supervisor's id. */
  dispose(reason: string): void {
    for (const entry of this.#entries.values()) entry.child.dispose(reason);
    this.env.released(this.id);
  }

  #add(spec: ChildSpec): Entry {
    const child = this.env.factory(spec, this);
    const entry = { spec, child };
    child.onExit = (exit) => {
      this.#queue = this.#queue.then(() => this.#childExited(entry, exit));
    };
    this.#entries.set(child.id, entry);
    return entry;
  }

  async #childExited(entry: Entry, exit: Exit): Promise<void> {
    if (!this.#running || this.#entries.get(entry.child.id) !== entry) return;
    const restart = entry.spec.restart === "permanent" ||
      (entry.spec.restart === "transient" && exit.kind === "crash");
    if (!restart) {
      this.#entries.delete(entry.child.id);
      entry.child.dispose(
        exit.kind === "crash" ? "the actor crashed and is not restarted" : "the actor stopped",
      );
      return;
    }
    const now = this.env.clock.now();
    this.#restarts = this.#restarts.filter((t) => now - t < this.spec.periodMs);
    this.#restarts.push(now);
    if (this.#restarts.length > this.spec.intensity) {
      await this.#giveUp(
        `more than ${this.spec.intensity} restarts within ${this.spec.periodMs} ms; last: "${entry.child.id}" ` +
          (exit.kind === "crash" ? `crashed (${exit.error.message})` : "exited"),
      );
      return;
    }
    const entries = [...this.#entries.values()];
    const group = this.spec.strategy === "one_for_one"
      ? [entry]
      : this.spec.strategy === "one_for_all"
      ? entries
      : entries.slice(entries.indexOf(entry));
    for (const other of [...group].reverse()) {
      if (other !== entry) await other.child.stop(other.spec.shutdownMs);
    }
    const delayMs = backoffDelay(this.spec.backoff, this.#restarts.length);
    await sleep(this.env.clock, delayMs);
    if (!this.#running) return;
    for (const member of group) {
      try {
        await member.child.start();
        this.events.emit({
          type: "restarted",
          actor: member.child.id,
          supervisor: this.id,
          restarts: this.#restarts.length,
          delayMs,
        });
      } catch (err) {
        // A failed restart counts as another crash of that child.
        const error: ErrorInfo = { name: "Error", message: (err as Error).message };
        this.#queue = this.#queue.then(() => this.#childExited(member, { kind: "crash", error }));
        return;
      }
    }
  }

  async #giveUp(reason: string): Promise<void> {
    this.#running = false;
    this.events.emit({ type: "escalated", actor: this.id, reason });
    for (const entry of [...this.#entries.values()].reverse()) {
      await entry.child.stop(entry.spec.shutdownMs);
    }
    queueMicrotask(() =>
      this.onExit({ kind: "crash", error: { name: "Escalation", message: reason } })
    );
  }
}
