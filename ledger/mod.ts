/**
 * troupe's ledger: append-only, hash-chained events in DuckDB, typed by zod schemas, replayed
 * to recover state and queried with SQL.
 *
 * ```ts
 * import { Ledger } from "./ledger/mod.ts";
 *
 * await using ledger = await Ledger.open(".troupe/ledger.duckdb");
 * const { seq } = await ledger.append({ actor: "planner", type: "note", payload: { plan: "b" } });
 * console.log(seq, (await ledger.query("SELECT count(*) AS n FROM events")).rows);
 * ```
 *
 * @module
 */
export { Ledger, type LedgerOptions } from "./ledger.ts";
export { type Ack, LedgerEventInput, type LedgerRow } from "./ledger_event.ts";
export { LedgerError, type LedgerErrorCode } from "./ledger_error.ts";
export { DEFAULT_LEDGER_PATH } from "./ledger_file.ts";
export { LedgerEngine } from "./ledger_store.ts";
export { type QueryOptions, type QueryResult } from "./readonly_sql.ts";
export { type Verification, verifyChain } from "./verify_chain.ts";
export { type RecorderOptions, recordSystem } from "./system_recorder.ts";
export { replayRun, type StoryLine } from "./replay.ts";
export { exportParquet } from "./export_parquet.ts";
export { type LedgerView, VIEWS } from "./views.ts";
export { canonicalJson, chainHash, GENESIS_HASH } from "./hash_chain.ts";
export { LedgerJournal } from "./ledger_journal.ts";
export {
  eventKinds,
  type EventOf,
  type EventType,
  eventType,
  readEvent,
  type RecordInput,
  type TypedEvent,
} from "./event_type.ts";
