import type { ActorSystem, SystemEvent } from "../runtime/mod.ts";
import type { Ledger } from "./ledger.ts";

/** Which run the recorded events belong to, and how many per-message events to keep. */
export interface RecorderOptions {
  /** The run the events belong to; null for events of no run. */
  runId: string | null;
  /** Records only the events of the actors this accepts (all by default): a system shared by
   * several runs records each run's actors under its own id. */
  actors?: (id: string) => boolean;
  /** Per-message events (`delivered`): all, none, or a sampled fraction. */
  messages?: "all" | "none" | number;
  /** Called when an event could not be stored; the default prints to stderr. */
  onError?: (err: Error) => void;
}

/**
 * Writes every event of an actor system to the ledger, tagged with the run id. Returns a
 * function that detaches and waits until everything seen so far is committed.
 */
export function recordSystem(
  system: ActorSystem,
  ledger: Ledger,
  options: RecorderOptions,
): () => Promise<void> {
  const messages = options.messages ?? "all";
  const onError = options.onError ?? ((err) => console.error(`troupe: ledger: ${err.message}`));
  const stop = system.events.subscribe((event: SystemEvent) => {
    if (options.actors && !options.actors(event.actor)) return;
    if (event.type === "delivered") {
      if (messages === "none") return;
      if (typeof messages === "number" && Math.random() >= messages) return;
    }
    const { seq: _seq, ts: _ts, type, actor, ...payload } = event;
    // No promise per event: one wait for all of them when detached.
    ledger.write({ runId: options.runId, actor, type, payload }, onError);
  });
  return async () => {
    stop();
    await ledger.flush();
  };
}
