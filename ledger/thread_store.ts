import { type ErrorInfo, fromErrorInfo } from "../runtime/errors.ts";
import { LedgerError, type LedgerErrorCode } from "./ledger_error.ts";
import type { LedgerRow } from "./ledger_event.ts";
import type { LedgerStore, StoreOptions } from "./ledger_store.ts";
import type { QueryOptions, QueryResult } from "./readonly_sql.ts";

/** What the main thread asks the writer thread (`store_worker.ts`). */
export type StoreCall =
  | { op: "open"; path: string; options: StoreOptions }
  | { op: "commit"; rows: RowColumns }
  | { op: "select"; sql: string; params?: Record<string, string | number> }
  | { op: "query"; sql: string; options?: QueryOptions }
  | { op: "export"; file: string }
  | { op: "close" };
/** A call with the number its reply carries. */
export type StoreRequest = StoreCall & { id: number };

/**
 * Rows as columns, to cross to the writer thread: arrays of strings and numbers copy several
 * times faster than as many small objects (structured clone walks each object's keys).
 */
export type RowColumns = { [K in keyof LedgerRow]: LedgerRow[K][] };

/** Rows to columns. */
export function toColumns(rows: LedgerRow[]): RowColumns {
  const c: RowColumns = {
    seq: [],
    ts: [],
    runId: [],
    actor: [],
    type: [],
    causationId: [],
    correlationId: [],
    payload: [],
    prevHash: [],
    hash: [],
  };
  for (const r of rows) {
    c.seq.push(r.seq);
    c.ts.push(r.ts);
    c.runId.push(r.runId);
    c.actor.push(r.actor);
    c.type.push(r.type);
    c.causationId.push(r.causationId);
    c.correlationId.push(r.correlationId);
    c.payload.push(r.payload);
    c.prevHash.push(r.prevHash);
    c.hash.push(r.hash);
  }
  return c;
}

/** Columns back to rows. */
export function fromColumns(c: RowColumns): LedgerRow[] {
  const rows: LedgerRow[] = new Array(c.seq.length);
  for (let i = 0; i < rows.length; i++) {
    rows[i] = {
      seq: c.seq[i],
      ts: c.ts[i],
      runId: c.runId[i],
      actor: c.actor[i],
      type: c.type[i],
      causationId: c.causationId[i],
      correlationId: c.correlationId[i],
      payload: c.payload[i],
      prevHash: c.prevHash[i],
      hash: c.hash[i],
    };
  }
  return rows;
}

/** The writer thread's answer to one request. */
export type StoreReply =
  | { id: number; ok: true; value: unknown }
  | {
    id: number;
    ok: false;
    error: ErrorInfo & { context?: Record<string, unknown> };
  };

/**
 * The native ledger on a thread of its own: DuckDB's appender and commit run in a worker, so a
 * commit (0.7-1 ms, synchronous in DuckDB) no longer holds the thread the actors and their
 * replies run on. Hashing, ordering and batching stay with the `Ledger` on the calling thread; a
 * commit's promise settles only once DuckDB has committed (and synced its log) there.
 */
export class ThreadStore implements LedgerStore {
  readonly engine = "native";
  readonly #worker: Worker;
  readonly #waiting = new Map<number, PromiseWithResolvers<unknown>>();
  #next = 0;
  #dead?: Error;

  private constructor(readonly path: string) {
    this.#worker = new Worker(new URL("./store_worker.ts", import.meta.url).href, {
      type: "module",
    });
    this.#worker.onmessage = (e: MessageEvent<StoreReply>) => this.#settle(e.data);
    this.#worker.onerror = (e) => {
      e.preventDefault();
      this.#fail(
        new LedgerError("append_failed", `the ledger's writer thread failed: ${e.message}`),
      );
    };
  }

  /** Starts the writer thread and opens `path` in it. */
  static async open(path: string, options: StoreOptions): Promise<ThreadStore> {
    const store = new ThreadStore(path);
    try {
      await store.#ask({ op: "open", path, options });
    } catch (err) {
      store.#worker.terminate();
      throw err;
    }
    return store;
  }

  commit(rows: LedgerRow[]): Promise<void> {
    return this.#ask({ op: "commit", rows: toColumns(rows) }) as Promise<void>;
  }

  select(
    sql: string,
    params?: Record<string, string | number>,
  ): Promise<Record<string, unknown>[]> {
    return this.#ask({ op: "select", sql, params }) as Promise<Record<string, unknown>[]>;
  }

  query(sql: string, options?: QueryOptions): Promise<QueryResult> {
    return this.#ask({ op: "query", sql, options }) as Promise<QueryResult>;
  }

  async exportParquet(file: string): Promise<void> {
    await this.#ask({ op: "export", file });
  }

  async close(): Promise<void> {
    try {
      if (!this.#dead) await this.#ask({ op: "close" });
    } finally {
      this.#worker.terminate();
      this.#fail(new LedgerError("closed", `the ledger ${this.path} is closed`));
    }
  }

  #ask(request: StoreCall): Promise<unknown> {
    if (this.#dead) return Promise.reject(this.#dead);
    const id = ++this.#next;
    const pending = Promise.withResolvers<unknown>();
    this.#waiting.set(id, pending);
    this.#worker.postMessage({ ...request, id });
    return pending.promise;
  }

  #settle(reply: StoreReply): void {
    const pending = this.#waiting.get(reply.id);
    if (!pending) return;
    this.#waiting.delete(reply.id);
    if (reply.ok) return pending.resolve(reply.value);
    const error = reply.error;
    pending.reject(
      error.name === "LedgerError"
        ? new LedgerError(error.code as LedgerErrorCode, error.message, error.context)
        : fromErrorInfo(error),
    );
  }

  /** Every request still waiting fails with `error`; later ones too. */
  #fail(error: Error): void {
    this.#dead ??= error;
    for (const pending of this.#waiting.values()) pending.reject(error);
    this.#waiting.clear();
  }
}
