import type { EventInput, SystemEvent } from "./system_event.ts";

export type EventListener = (event: SystemEvent) => void;

/**
 * The one stream of lifecycle and delivery events. Listeners run synchronously in emit order;
 * a throwing listener is reported and removed so that observers can never break the system.
 */
export class EventStream {
  #listeners = new Set<EventListener>();
  /** Whether anyone listens, kept as a field: it is read on every drain. */
  #observed = false;
  #seq = 0;

  /** True while someone listens, so that per-message events can be skipped when nobody does. */
  get observed(): boolean {
    return this.#observed;
  }

  /** Calls `listener` with every event from now on; returns the unsubscribe function. */
  subscribe(listener: EventListener): () => void {
    this.#listeners.add(listener);
    this.#observed = true;
    return () => this.#remove(listener);
  }

  /** Collects events matching `predicate` until the returned stop function is called. */
  collect(predicate: (e: SystemEvent) => boolean = () => true): SystemEvent[] & { stop(): void } {
    const seen = [] as unknown as SystemEvent[] & { stop(): void };
    const stop = this.subscribe((e) => predicate(e) && seen.push(e));
    seen.stop = stop;
    return seen;
  }

  /** Resolves with the first event matching `predicate`, or rejects after `timeoutMs`. */
  next(predicate: (e: SystemEvent) => boolean, timeoutMs = 10_000): Promise<SystemEvent> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        stop();
        reject(new Error(`no matching event within ${timeoutMs} ms`));
      }, timeoutMs);
      const stop = this.subscribe((e) => {
        if (!predicate(e)) return;
        clearTimeout(timer);
        stop();
        resolve(e);
      });
    });
  }

  #remove(listener: EventListener): boolean {
    const removed = this.#listeners.delete(listener);
    this.#observed = this.#listeners.size > 0;
    return removed;
  }

  /** Stamps an event with `seq` and `ts` and gives it to every listener. */
  emit(input: EventInput): void {
    // Unheard, an event costs its number only (spawning many actors emits two each).
    if (!this.#observed) {
      ++this.#seq;
      return;
    }
    const event = { ...input, seq: ++this.#seq, ts: Date.now() } as SystemEvent;
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (err) {
        this.#remove(listener);
        console.error(`troupe: event listener removed after it threw: ${err}`);
      }
    }
  }
}
