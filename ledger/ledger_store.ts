import { z } from "zod";
import type { LedgerRow } from "./ledger_event.ts";
import type { QueryOptions, QueryResult } from "./readonly_sql.ts";

/**
 * Which DuckDB runs the ledger: `native` (`@duckdb/node-api`, through FFI; the default) or
 * `wasm` (`@duckdb/duckdb-wasm`, for hosts that do not grant FFI: in-memory, or read-only
 * over a file, because its files do not persist in Deno).
 */
export const LedgerEngine = z.enum(["native", "wasm"]);
/** `native` (`@duckdb/node-api`, needs FFI) or `wasm` (`@duckdb/duckdb-wasm`: in memory, or a file read-only). */
export type LedgerEngine = z.infer<typeof LedgerEngine>;

export interface StoreOptions {
  readOnly: boolean;
  /** Lets SQL reach files (for export); only with readOnly. */
  externalAccess: boolean;
}

/** What the ledger needs from a DuckDB engine. Hashing, ordering and batching stay above it. */
export interface LedgerStore {
  readonly engine: LedgerEngine;
  /**
   * Stores rows in one commit, or throws (or rejects) and stores none of them. Synchronous on the
   * calling thread, or a promise when the commit runs on a writer thread; the ledger has one
   * commit at a time in flight either way.
   */
  commit(rows: LedgerRow[]): void | Promise<void>;
  /** One of troupe's own fixed queries, with `$name` parameters. */
  select(sql: string, params?: Record<string, string | number>): Promise<Record<string, unknown>[]>;
  /** One user SELECT: read-only, limited in time and rows. The ledger runs one at a time. */
  query(sql: string, options?: QueryOptions): Promise<QueryResult>;
  /** Writes the events table, in seq order, to a Parquet file. */
  exportParquet(file: string): Promise<void>;
  close(): void | Promise<void>;
}
