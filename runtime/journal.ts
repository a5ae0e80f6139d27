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

export interface Recovery {
  snapshot?: { state: unknown };
  events: unknown[];
}
