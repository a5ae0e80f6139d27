import type { Clock } from "./clock.ts";
import { Fifo } from "./fifo.ts";

/** A deadline armed with `Deadlines.add`; `Deadlines.cancel` disarms it. */
export interface Deadline {
  readonly at: number;
  readonly ms: number;
  readonly fire: () => void;
  done: boolean;
}

/**
 * Every ask's timeout on one timer, as actor runtimes keep their timeouts in a wheel: a timer
 * per ask cost half of an ask. Deadlines wait in a queue per duration, where they fall due in
 * the order they were added, and one clock timer is armed for the earliest. A cancelled deadline
 * leaves its queue at once when it is the oldest (the common case: asks answered in order), else
 * when it comes due. The timer is left armed when the last deadline goes (re-arming it for the
 * next ask would cost what this saves) and fires then for nothing; `close` disarms it once no
 * deadline is left.
 */
export class Deadlines {
  readonly #queues = new Map<number, Fifo<Deadline>>();
  #timer: number | undefined;
  #armedAt = Infinity;

  constructor(readonly clock: Clock) {}

  /** Calls `fire` after `ms` unless cancelled first. */
  add(ms: number, fire: () => void): Deadline {
    const deadline: Deadline = { at: this.clock.now() + ms, ms, fire, done: false };
    let queue = this.#queues.get(ms);
    if (!queue) this.#queues.set(ms, queue = new Fifo());
    queue.push(deadline);
    if (deadline.at < this.#armedAt) this.#arm(deadline.at);
    return deadline;
  }

  /** Disarms a deadline; a fired or cancelled one is left as it is. */
  cancel(deadline: Deadline): void {
    if (deadline.done) return;
    deadline.done = true;
    const queue = this.#queues.get(deadline.ms)!;
    while (queue.peek()?.done) queue.shift();
  }

  /** Disarms the timer if no deadline is left to fire (one still waiting keeps it armed). */
  close(): void {
    for (const queue of this.#queues.values()) if (queue.length > 0) return;
    this.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armedAt = Infinity;
  }

  #arm(at: number): void {
    this.clock.clearTimeout(this.#timer);
    this.#armedAt = at;
    this.#timer = this.clock.setTimeout(() => this.#due(), Math.max(0, at - this.clock.now()));
  }

  #due(): void {
    this.#timer = undefined;
    this.#armedAt = Infinity;
    const now = this.clock.now();
    let next = Infinity;
    for (const queue of this.#queues.values()) {
      let head;
      while ((head = queue.peek()) && (head.done || head.at <= now)) {
        queue.shift();
        if (!head.done) {
          head.done = true;
          head.fire();
        }
      }
      if (head) next = Math.min(next, head.at);
    }
    if (next < Infinity) this.#arm(next);
  }
}
