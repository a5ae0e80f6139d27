/**
 * Where event-sourced actors keep their state changes. The runtime only knows this interface;
 * the ledger implements it (`ledger/ledger_journal.ts`).
 */
export interface Journal {
  /** Stores one state-change event of `actor`; resolves once it is durable. */
  persist(actor: string, event: unknown): Promise<void>;
  /** Stores a snapshot of `actor`'s state, so recovery replays only what came after it. */
  snapshot(actor: string, state: unknown): Promise<void>;
  /** The latest snapshot (if any) and the events stored after it, in order. */
  recover(actor: string): Promise<Recovery>;
}

/** What an event-sourced actor is rebuilt from: the latest snapshot and the events after it. */
export interface Recovery {
  snapshot?: { state: unknown };
  events: unknown[];
}
