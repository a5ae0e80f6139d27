import { z } from "zod";

/** What a caller appends. The writer adds seq, ts and the hash chain. */
export const LedgerEventInput = z.object({
  runId: z.string().nullable().default(null),
  actor: z.string().min(1),
  type: z.string().min(1),
  /** seq of the event that caused this one. */
  causationId: z.number().int().positive().nullable().default(null),
  /** Groups events of one conversation, task or request. */
  correlationId: z.string().nullable().default(null),
  payload: z.unknown().default(null),
});
/** What a caller appends. The writer adds seq, ts and the hash chain. */
export type LedgerEventInput = z.input<typeof LedgerEventInput>;

/** One row of the `events` table, as stored and hashed. */
export interface LedgerRow {
  seq: number;
  /** Milliseconds since the epoch (stored as TIMESTAMP). */
  ts: number;
  runId: string | null;
  actor: string;
  type: string;
  causationId: number | null;
  correlationId: string | null;
  /** Canonical JSON text of the payload. */
  payload: string;
  prevHash: string;
  hash: string;
}

/** A committed event's sequence number and hash. */
export interface Ack {
  seq: number;
  hash: string;
}
