/**
 * The thread's run queue: actors with messages to handle take turns here, in the order they
 * became ready, and one microtask runs many turns. Scheduling each actor's drain as a microtask
 * of its own cost a promise and its reaction per hop (a tenth of a ping-pong's time and most of
 * its garbage); OTP's schedulers and Akka's dispatchers keep a run queue for the same reason.
 * Every drain still begins on a later microtask than the tell that readied it, so no actor's
 * `receive` runs inside another's stack frame.
 */
import { Fifo } from "./fifo.ts";

/** Queues a V8 microtask directly; queueMicrotask() is an op call. */
const RESOLVED = Promise.resolve();
/**
 * Turns taken in one microtask before the queue goes to the back of the microtask queue, so that
 * promise continuations (an ask's caller, an asynchronous handler) are not held behind a long
 * exchange between actors for more than this many turns.
 */
const BUDGET = 512;

const queue = new Fifo<() => void>(64);
let scheduled = false;

/** Runs `turn` after the current one ends (on a later microtask when nothing is running). */
export function schedule(turn: () => void): void {
  queue.push(turn);
  if (!scheduled) {
    scheduled = true;
    RESOLVED.then(runTurns);
  }
}

function runTurns(): void {
  let left = BUDGET;
  try {
    while (queue.length > 0 && left-- > 0) queue.shift()!();
  } finally {
    // What is left goes on in a later microtask, behind what queued meanwhile.
    if (queue.length > 0) RESOLVED.then(runTurns);
    else scheduled = false;
  }
}
