/**
 * Time as a dependency. The runtime, the orchestrator and the health monitor read time and arm
 * timers only through a `Clock`, so tests drive a `FakeClock` instead of sleeping and a busy
 * machine cannot make them fail. What measures a real thread (a worker's watchdog, a stop
 * deadline) stays on real time: it waits for something that happens in real time.
 */
export interface Clock {
  /** Milliseconds, monotonic. */
  now(): number;
  /** Calls `fn` once after `ms`; returns an id for `clearTimeout`. */
  setTimeout(fn: () => void, ms: number): number;
  /** Cancels a timeout. */
  clearTimeout(id: number | undefined): void;
  /** Calls `fn` every `ms`; returns an id for `clearInterval`. */
  setInterval(fn: () => void, ms: number): number;
  /** Cancels an interval. */
  clearInterval(id: number | undefined): void;
}

/** The real clock: `performance.now` and the platform's timers (numbers in Deno). */
export const realClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms) as unknown as number,
  clearTimeout: (id) => clearTimeout(id),
  setInterval: (fn, ms) => setInterval(fn, ms) as unknown as number,
  clearInterval: (id) => clearInterval(id),
};

/** Resolves after `ms` on `clock`; at once for 0 (a timer costs a millisecond or more). */
export function sleep(clock: Clock, ms: number): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve) => clock.setTimeout(resolve, ms));
}

interface Timer {
  id: number;
  at: number;
  fn: () => void;
  every?: number;
}

/**
 * Lets pending promise continuations and already-queued tasks run: one turn of the event loop
 * through a MessageChannel. Not `setTimeout(0)`: once DuckDB is loaded, Deno 2.8.2 may not wake
 * a timer armed from a timer callback (see the ledger's README notes).
 */
function settle(): Promise<void> {
  return new Promise((resolve) => {
    const { port1, port2 } = new MessageChannel();
    port1.onmessage = () => {
      port1.close();
      resolve();
    };
    port2.postMessage(0);
  });
}

/**
 * A clock that moves only when told to, as `@std/testing`'s FakeTime does. `tick(ms)` fires
 * every timer that falls due, in order, letting the work each one starts settle before the
 * next; `pending` says how many timers are armed.
 */
export class FakeClock implements Clock {
  #now: number;
  #next = 1;
  #timers: Timer[] = [];

  constructor(start = 0) {
    this.#now = start;
  }

  /** The fake time, in milliseconds. */
  now(): number {
    return this.#now;
  }

  /** How many timers are armed. */
  get pending(): number {
    return this.#timers.length;
  }

  /** Arms a timer that fires when `tick` passes its time. */
  setTimeout(fn: () => void, ms: number): number {
    return this.#arm(fn, ms);
  }

  /** Arms a timer that fires each time `tick` passes another `ms`. */
  setInterval(fn: () => void, ms: number): number {
    return this.#arm(fn, ms, Math.max(1, ms));
  }

  /** Disarms a timer. */
  clearTimeout(id: number | undefined): void {
    this.#timers = this.#timers.filter((t) => t.id !== id);
  }

  /** Disarms an interval. */
  clearInterval(id: number | undefined): void {
    this.clearTimeout(id);
  }

  /** Moves time forward by `ms`, firing what falls due on the way. */
  async tick(ms: number): Promise<void> {
    const end = this.#now + ms;
    await settle();
    for (;;) {
      const due = this.#timers.filter((t) => t.at <= end).sort((a, b) =>
        a.at - b.at || a.id - b.id
      );
      const timer = due[0];
      if (!timer) break;
      this.#now = Math.max(this.#now, timer.at);
      if (timer.every) timer.at += timer.every;
      else this.clearTimeout(timer.id);
      timer.fn();
      await settle();
    }
    this.#now = end;
    await settle();
  }

  #arm(fn: () => void, ms: number, every?: number): number {
    const id = this.#next++;
    this.#timers.push({ id, at: this.#now + Math.max(0, ms), fn, ...(every ? { every } : {}) });
    return id;
  }
}
