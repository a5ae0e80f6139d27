import { z } from "zod";
import type { LedgerRow } from "./ledger_event.ts";
import { LedgerError } from "./ledger_error.ts";

/**
 * A kind of ledger event: its `type` and the zod schema of its payload. Each layer defines the
 * events it writes beside the code that writes them (`RunStarted` in the orchestrator,
 * `ApprovalRequested` in policies, …); the ledger validates a payload when it is recorded and
 * again when it is read, so no reader casts `JSON.parse(...)`.
 */
export interface EventType<T extends string = string, S extends z.ZodType = z.ZodType> {
  readonly type: T;
  readonly payload: S;
}

/** Defines an event type: its name and its payload schema. */
export function eventType<T extends string, S extends z.ZodType>(
  type: T,
  payload: S,
): EventType<T, S> {
  return { type, payload };
}

/** One committed event of a known type, with its payload parsed. */
export interface TypedEvent<T extends string = string, P = unknown> {
  seq: number;
  /** Milliseconds since the epoch. */
  ts: number;
  runId: string | null;
  actor: string;
  type: T;
  causationId: number | null;
  correlationId: string | null;
  payload: P;
}

/** The event union a read of several event types yields. */
export type EventOf<K extends readonly EventType[]> = {
  [I in keyof K]: K[I] extends EventType<infer T, infer S> ? TypedEvent<T, z.output<S>> : never;
}[number];

/** What `Ledger.record` takes besides the event type. */
export interface RecordInput<S extends z.ZodType> {
  runId?: string | null;
  actor: string;
  payload: z.input<S>;
  causationId?: number | null;
  correlationId?: string | null;
}

/**
 * A stored row as an event of one of `kinds` (by type, from `eventKinds`), its payload parsed;
 * nothing when it is of none of them. A payload that does not match its schema is an error
 * naming the event: the ledger checked it when it was recorded.
 */
export function readEvent<K extends readonly EventType[]>(
  byType: ReadonlyMap<string, EventType>,
  row: LedgerRow,
): EventOf<K> | undefined {
  const kind = byType.get(row.type);
  if (!kind) return undefined;
  const parsed = kind.payload.safeParse(JSON.parse(row.payload));
  if (!parsed.success) {
    throw new LedgerError(
      "invalid_event",
      `ledger event ${row.seq} ("${row.type}") does not match its schema:\n${
        z.prettifyError(parsed.error)
      }`,
      { seq: row.seq, type: row.type },
    );
  }
  const { prevHash: _p, hash: _h, payload: _s, ...rest } = row;
  return { ...rest, payload: parsed.data } as EventOf<K>;
}

/** Event kinds by their type, for `readEvent`. */
export const eventKinds = (kinds: readonly EventType[]): ReadonlyMap<string, EventType> =>
  new Map(kinds.map((k) => [k.type, k]));
