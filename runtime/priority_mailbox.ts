import { z } from "zod";
import { Fifo } from "./fifo.ts";

/** A message's lane: critical overtakes high, normal and low. */
export const Priority = z.enum(["critical", "high", "normal", "low"]);
/** A message's lane: critical overtakes high, normal and low. */
export type Priority = z.infer<typeof Priority>;

/** What a full mailbox does: reject the new message, drop the oldest, or make senders wait. */
export const OverflowPolicy = z.enum(["reject", "drop_oldest", "backpressure"]);
/** What a full mailbox does: reject the new message, drop the oldest, or make senders wait. */
export type OverflowPolicy = z.infer<typeof OverflowPolicy>;

/** The answer to most offers, shared: one allocation less per message. */
const ACCEPTED: Offer<never> = Object.freeze({ accepted: true as const });

/** An empty lane shared by every mailbox until it needs its own (see `#lane`). */
// deno-lint-ignore no-explicit-any
const NO_LANE = new Fifo<any>(1);

const RANK: Record<Priority, number> = { critical: 0, high: 1, normal: 2, low: 3 };
const PRIORITIES: readonly Priority[] = ["critical", "high", "normal", "low"];

export type Offer<T> =
  | { accepted: true; dropped?: T }
  | { accepted: false; reason: string };

/**
 * A bounded mailbox with four priority lanes. `take()` always returns the oldest message of
 * the highest non-empty lane, so a critical message overtakes everything already queued.
 */
export class PriorityMailbox<T> {
  /** A lane per priority; all but normal made when first used (most actors never use them). */
  readonly #lanes: Fifo<T>[] = [NO_LANE, NO_LANE, new Fifo<T>(), NO_LANE];
  #size = 0;
  /** The highest lane made so far: `take` need not look above it. */
  #top = 2;
  /** Taken but still holding their room: messages sent ahead to a worker, not yet begun. */
  #held = 0;
  #roomWaiters: (() => void)[] = [];

  constructor(readonly capacity: number, readonly overflow: OverflowPolicy) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`mailbox capacity must be a positive integer, got ${capacity}`);
    }
  }

  get size(): number {
    return this.#size;
  }

  /** No room left: queued and held messages fill it. */
  get full(): boolean {
    return this.#size + this.#held >= this.capacity;
  }

  /** Queues a normal-priority message if there is room (the common case, without a lookup). */
  offerNormal(item: T): boolean {
    if (this.#size + this.#held >= this.capacity) return false;
    this.#lanes[2].push(item);
    this.#size++;
    return true;
  }

  /**
   * Queue a message. When full: `reject` and `backpressure` refuse it (backpressure callers
   * await `room()` first); `drop_oldest` evicts the oldest message of the lowest lane present,
   * unless the new message ranks lower still, in which case the new one is refused.
   */
  offer(item: T, priority: Priority = "normal"): Offer<T> {
    if (this.#size + this.#held < this.capacity) {
      this.#lane(RANK[priority]).push(item);
      this.#size++;
      return ACCEPTED;
    }
    if (this.overflow !== "drop_oldest") {
      return { accepted: false, reason: `mailbox full (capacity ${this.capacity})` };
    }
    for (let rank = PRIORITIES.length - 1; rank >= 0; rank--) {
      if (this.#lanes[rank].length === 0) continue;
      if (RANK[priority] > rank) {
        return {
          accepted: false,
          reason: `mailbox full (capacity ${this.capacity}) of higher-priority messages`,
        };
      }
      const dropped = this.#lanes[rank].shift() as T;
      this.#lane(RANK[priority]).push(item);
      return { accepted: true, dropped };
    }
    return { accepted: false, reason: "unreachable: full mailbox with empty lanes" };
  }

  /**
   * Takes the next message. `hold` keeps its room taken until `release`: for messages sent
   * ahead to a worker, which are as good as queued until it begins them.
   */
  take(hold = false): T | undefined {
    if (this.#size === 0) return undefined;
    const lanes = this.#lanes;
    for (let i = this.#top; i < lanes.length; i++) {
      if (lanes[i].length > 0) {
        this.#size--;
        const item = lanes[i].shift();
        if (hold) this.#held++;
        else if (this.#roomWaiters.length > 0) this.#roomWaiters.shift()!();
        return item;
      }
    }
    return undefined;
  }

  /** Gives back the room of `n` held messages, waking as many waiters. */
  release(n: number): void {
    this.#held -= n;
    for (let i = 0; i < n && this.#roomWaiters.length > 0; i++) this.#roomWaiters.shift()!();
  }

  /**
   * Puts taken messages back in front of their lanes, in their order: those a worker never got
   * to handle before its incarnation ended. They were accepted once, so room is not asked again.
   */
  putBack(items: { item: T; priority: Priority }[]): void {
    for (let i = items.length - 1; i >= 0; i--) {
      this.#lane(RANK[items[i].priority]).unshift(items[i].item);
      this.#size++;
    }
  }

  /**
   * Resolves when there is room for one more message (immediately if there is now). A waiter
   * whose `signal` aborts leaves the queue at once, so it never takes a wake-up meant for
   * another; the promise then rejects with the signal's reason.
   */
  room(signal?: AbortSignal): Promise<void> {
    if (this.#size + this.#held < this.capacity) return Promise.resolve();
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const wake = () => {
        signal?.removeEventListener("abort", leave);
        resolve();
      };
      const leave = () => {
        const i = this.#roomWaiters.indexOf(wake);
        if (i >= 0) this.#roomWaiters.splice(i, 1);
        reject(signal!.reason);
      };
      signal?.addEventListener("abort", leave, { once: true });
      this.#roomWaiters.push(wake);
    });
  }

  /** How many callers wait for room. */
  get waiting(): number {
    return this.#roomWaiters.length;
  }

  /** The lane of `rank`, made on first use. */
  #lane(rank: number): Fifo<T> {
    const lane = this.#lanes[rank];
    if (lane !== NO_LANE) return lane;
    if (rank < this.#top) this.#top = rank;
    return this.#lanes[rank] = new Fifo<T>();
  }

  /** Empties the mailbox, returning what was queued in delivery order. */
  drain(): T[] {
    const all = this.#lanes.flatMap((lane) => lane.drain());
    this.#size = 0;
    for (const wake of this.#roomWaiters.splice(0)) wake();
    return all;
  }
}
