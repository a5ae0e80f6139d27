import { z } from "zod";
import type { Journal, Recovery } from "../runtime/mod.ts";
import { eventType } from "./event_type.ts";
import type { Ledger } from "./ledger.ts";

/** One event of an event-sourced actor: whatever its behaviour persisted. */
export const StateEvent = eventType("state_event", z.unknown());
/** An event-sourced actor's whole state; recovery starts from the latest. */
export const StateSnapshot = eventType("state_snapshot", z.unknown());

/**
 * Event-sourced actor state in the ledger: `state_event` and `state_snapshot` rows keyed by the
 * actor id, so state survives restarts of the actor and of the whole process.
 */
export class LedgerJournal implements Journal {
  constructor(readonly ledger: Ledger, readonly runId: string | null = null) {}

  /** Stores one event of an event-sourced actor. */
  async persist(actor: string, event: unknown): Promise<void> {
    await this.ledger.record(StateEvent, { runId: this.runId, actor, payload: event });
  }

  /** Stores an actor's whole state, so recovery starts from here. */
  async snapshot(actor: string, state: unknown): Promise<void> {
    await this.ledger.record(StateSnapshot, { runId: this.runId, actor, payload: state });
  }

  /** The latest snapshot of an actor and the events after it. */
  async recover(actor: string): Promise<Recovery> {
    const [snap] = await this.ledger.select(
      `SELECT seq, payload FROM events WHERE actor = $actor AND type = 'state_snapshot'
       ORDER BY seq DESC LIMIT 1`,
      { actor },
    );
    const after = snap ? Number(snap.seq) : 0;
    const rows = await this.ledger.select(
      `SELECT payload FROM events WHERE actor = $actor AND type = 'state_event' AND seq > $after ORDER BY seq`,
      { actor, after },
    );
    return {
      ...(snap ? { snapshot: { state: JSON.parse(String(snap.payload)) } } : {}),
      events: rows.map((r) => JSON.parse(String(r.payload))),
    };
  }
}
