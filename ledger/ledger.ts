import { z } from "zod";
import { GroupCommit } from "./group_commit.ts";
import { type Ack, LedgerEventInput, type LedgerRow } from "./ledger_event.ts";
import { LedgerError } from "./ledger_error.ts";
import { checkLedgerFile, DEFAULT_LEDGER_PATH } from "./ledger_file.ts";
import { LedgerEngine, type LedgerStore } from "./ledger_store.ts";
import type { QueryOptions, QueryResult } from "./readonly_sql.ts";
import {
  eventKinds,
  type EventOf,
  type EventType,
  readEvent,
  type RecordInput,
} from "./event_type.ts";

/** How a ledger is opened. */
export interface LedgerOptions {
  /** `native` (default) or `wasm`; see `LedgerEngine`. */
  engine?: LedgerEngine;
  readOnly?: boolean;
  /** Lets SQL reach files (for export); only with readOnly. */
  externalAccess?: boolean;
  /** Group commit: at most this many events per commit (1024 native, 4096 wasm). */
  maxBatch?: number;
  /** Group commit: an append waits at most this long for others to share its commit. */
  maxDelayMs?: number;
}

/**
 * The hot path checks the common shape by hand and falls back to the zod schema (the one
 * definition) for anything else, so that a rejected event gets zod's full explanation.
 */
function normalize(event: LedgerEventInput): z.output<typeof LedgerEventInput> | LedgerError {
  const e = event as Record<string, unknown>;
  if (
    typeof e.actor === "string" && e.actor !== "" && typeof e.type === "string" && e.type !== "" &&
    (e.runId === undefined || e.runId === null || typeof e.runId === "string") &&
    (e.correlationId === undefined || e.correlationId === null ||
      typeof e.correlationId === "string") &&
    e.causationId === undefined
  ) {
    return {
      actor: e.actor,
      type: e.type,
      runId: (e.runId as string | undefined) ?? null,
      correlationId: (e.correlationId as string | undefined) ?? null,
      causationId: null,
      payload: e.payload ?? null,
    };
  }
  const parsed = LedgerEventInput.safeParse(event);
  return parsed.success
    ? parsed.data
    : new LedgerError("append_failed", `invalid ledger event: ${z.prettifyError(parsed.error)}`);
}

/** The native engine loads DuckDB's shared library, which Deno allows only with --allow-ffi. */
async function loadNative(): Promise<typeof import("./native_store.ts")> {
  try {
    return await import("./native_store.ts");
  } catch (err) {
    if (err instanceof Deno.errors.NotCapable || err instanceof Deno.errors.PermissionDenied) {
      throw new LedgerError(
        "open_failed",
        `the native ledger engine needs FFI (${(err as Error).message.split(",")[0]}); ` +
          `grant --allow-ffi, or pass --engine wasm to read the ledger without it`,
      );
    }
    throw err;
  }
}

const ignore = () => {};

function toRow(r: Record<string, unknown>): LedgerRow {
  return {
    seq: Number(r.seq),
    ts: Number(r.ts),
    runId: r.run_id as string | null,
    actor: String(r.actor),
    type: String(r.type),
    causationId: r.causation_id === null ? null : Number(r.causation_id),
    correlationId: r.correlation_id as string | null,
    payload: String(r.payload),
    prevHash: String(r.prev_hash),
    hash: String(r.hash),
  };
}

const ROW_COLUMNS =
  "seq, epoch_ms(ts) AS ts, run_id, actor, type, causation_id, correlation_id, payload, prev_hash, hash";

/**
 * The append-only, hash-chained event ledger in one DuckDB file. Appends are group-committed:
 * each resolves only after the commit that holds it, so an acknowledged event survives a crash.
 * There is no update or delete path.
 */
export class Ledger {
  #ticker?: ReturnType<typeof setInterval>;
  #closed = false;
  #queries: Promise<unknown> = Promise.resolve();
  #commits: GroupCommit;

  private constructor(
    readonly path: string,
    readonly store: LedgerStore,
    readonly readOnly: boolean,
    readonly maxBatch: number,
    readonly maxDelayMs: number,
  ) {
    this.#commits = new GroupCommit(store, path, maxBatch);
  }

  /** Opens (or creates) a ledger file; `:memory:` for a throwaway one. Refuses a file that is not a troupe ledger. */
  static async open(
    path: string = DEFAULT_LEDGER_PATH,
    options: LedgerOptions = {},
  ): Promise<Ledger> {
    const readOnly = options.readOnly ?? false;
    if (options.externalAccess && !readOnly) {
      throw new LedgerError("open_failed", "external access is only allowed on a read-only ledger");
    }
    const parsedEngine = LedgerEngine.safeParse(options.engine ?? "native");
    if (!parsedEngine.success) {
      throw new LedgerError(
        "open_failed",
        `unknown ledger engine "${options.engine}"; use ${LedgerEngine.options.join(" or ")}`,
      );
    }
    const engine = parsedEngine.data;
    await checkLedgerFile(path, readOnly);
    // Loaded on demand, so that a host without FFI never loads the native engine.
    const storeOptions = { readOnly, externalAccess: options.externalAccess ?? false };
    // A native ledger that is written commits on a writer thread; one only read needs none.
    const store: LedgerStore = engine === "wasm"
      ? await (await import("./wasm_store.ts")).WasmStore.open(path, storeOptions)
      : readOnly
      ? await (await loadNative()).NativeStore.open(path, storeOptions)
      : await (await import("./thread_store.ts")).ThreadStore.open(path, storeOptions);
    const ledger = new Ledger(
      path,
      store,
      readOnly,
      // On a writer thread, smaller batches overlap: one is stored while the next is hashed.
      options.maxBatch ?? (engine === "native" ? 1024 : 4096),
      options.maxDelayMs ?? 2,
    );
    try {
      const [last] = await store.select("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1");
      if (last) {
        ledger.#commits.start({ seq: Number(last.seq), hash: String(last.hash) });
      }
    } catch (err) {
      await store.close();
      throw err;
    }
    // The group-commit clock, referenced for as long as the ledger is open. Deno 2.8.2 with
    // DuckDB loaded was seen to miss the wake-up of a setTimeout armed from a timer callback
    // (sleeps never ended); a standing, referenced interval keeps the whole process's event
    // loop waking. So a process with an open ledger lives until the ledger is closed.
    ledger.#ticker = setInterval(() => {
      ledger.#commits.tick();
    }, ledger.maxDelayMs);
    return ledger;
  }

  /** Which DuckDB engine holds the ledger. */
  get engine(): LedgerEngine {
    return this.store.engine;
  }

  /** The last committed event. */
  get head(): Ack {
    return this.#commits.head;
  }

  /** Appends an event; resolves once it is committed, with its sequence number and hash. */
  append(event: LedgerEventInput): Promise<Ack> {
    const pending = Promise.withResolvers<Ack>();
    this.#enqueue(event, pending.resolve, pending.reject);
    return pending.promise;
  }

  /**
   * Appends an event without a promise of its own, for writers of many events that wait once
   * (`flush`): a refused event or a failed commit goes to `onError`. Durable as `append` is.
   */
  write(event: LedgerEventInput, onError: (err: Error) => void): void {
    this.#enqueue(event, ignore, onError);
  }

  #enqueue(event: LedgerEventInput, resolve: (ack: Ack) => void, reject: (e: Error) => void) {
    if (this.#closed) return reject(new LedgerError("closed", `the ledger ${this.path} is closed`));
    if (this.readOnly) {
      return reject(new LedgerError("append_failed", `the ledger ${this.path} is open read-only`));
    }
    const input = normalize(event);
    if (input instanceof LedgerError) return reject(input);
    this.#commits.push(input, resolve, reject);
  }

  /**
   * Appends an event of a known type, its payload checked against the type's schema first: a
   * payload of the wrong shape is refused with what is wrong, and nothing is written.
   */
  record<T extends string, S extends z.ZodType>(
    kind: EventType<T, S>,
    input: RecordInput<S>,
  ): Promise<Ack> {
    const parsed = kind.payload.safeParse(input.payload);
    if (!parsed.success) {
      return Promise.reject(
        new LedgerError(
          "invalid_event",
          `a "${kind.type}" event's payload is invalid:\n${z.prettifyError(parsed.error)}`,
          { type: kind.type },
        ),
      );
    }
    return this.append({ ...input, type: kind.type, payload: parsed.data });
  }

  /**
   * Committed events of the given types, in sequence order, each payload parsed by its type's
   * schema; optionally of one run or one actor, or from a sequence number on. A stored payload
   * that does not match its schema is an `invalid_event` error naming its seq.
   */
  async *events<const K extends readonly EventType[]>(
    kinds: K,
    filter: { runId?: string; actor?: string; fromSeq?: number; pageSize?: number } = {},
  ): AsyncGenerator<EventOf<K>> {
    const byType = eventKinds(kinds);
    if (byType.size === 0) return;
    const types = [...byType.keys()];
    const params: Record<string, string | number> = {};
    types.forEach((t, i) => params[`t${i}`] = t);
    const where = [`type IN (${types.map((_, i) => `$t${i}`).join(", ")})`];
    if (filter.runId !== undefined) {
      where.push("run_id = $run");
      params.run = filter.runId;
    }
    if (filter.actor !== undefined) {
      where.push("actor = $actor");
      params.actor = filter.actor;
    }
    const pageSize = filter.pageSize ?? 10_000;
    let after = (filter.fromSeq ?? 1) - 1;
    for (;;) {
      const page = await this.store.select(
        `SELECT ${ROW_COLUMNS} FROM events WHERE seq > $after AND ${where.join(" AND ")} ` +
          `ORDER BY seq LIMIT ${pageSize}`,
        { ...params, after },
      );
      for (const r of page) yield readEvent<K>(byType, toRow(r))!;
      if (page.length < pageSize) return;
      after = Number(page[page.length - 1].seq);
    }
  }

  /** The runs in the ledger, newest first: each run's id and when its first event was written. */
  async runs(limit = 20): Promise<{ runId: string; startedAt: number }[]> {
    const rows = await this.store.select(
      `SELECT run_id, epoch_ms(min(ts)) AS started FROM events WHERE run_id IS NOT NULL
       GROUP BY run_id ORDER BY started DESC LIMIT ${Math.max(1, Math.floor(limit))}`,
    );
    return rows.map((r) => ({ runId: String(r.run_id), startedAt: Number(r.started) }));
  }

  /**
   * Calls `listener` with the rows of every commit from now on, after they are durable; returns
   * the unsubscribe function. A listener that throws is dropped, never the commit.
   */
  onCommit(listener: (rows: readonly LedgerRow[]) => void): () => void {
    return this.#commits.onCommit(listener);
  }

  /** Commits everything appended so far (each append still resolves or rejects itself). */
  flush(): Promise<void> {
    return this.#commits.flush();
  }

  /** One read-only SELECT; queries run one at a time, each in its own read-only transaction. */
  query(sql: string, options?: QueryOptions): Promise<QueryResult> {
    const result = this.#queries.then(() => this.store.query(sql, options));
    this.#queries = result.catch(() => {});
    return result;
  }

  /** Runs one of troupe's own fixed, parameterized queries; user SQL goes through `query`. */
  select(
    sql: string,
    params: Record<string, string | number> = {},
  ): Promise<Record<string, unknown>[]> {
    return this.store.select(sql, params);
  }

  /** Committed rows in sequence order, read in pages. */
  async *rows(
    options: { fromSeq?: number; runId?: string; pageSize?: number } = {},
  ): AsyncGenerator<LedgerRow> {
    const pageSize = options.pageSize ?? 10_000;
    let after = (options.fromSeq ?? 1) - 1;
    for (;;) {
      const filter = options.runId === undefined ? "" : "AND run_id = $run";
      const page = await this.store.select(
        `SELECT ${ROW_COLUMNS} FROM events WHERE seq > $after ${filter} ORDER BY seq LIMIT ${pageSize}`,
        { after, ...(options.runId === undefined ? {} : { run: options.runId }) },
      );
      for (const r of page) yield toRow(r);
      if (page.length < pageSize) return;
      after = Number(page[page.length - 1].seq);
    }
  }

  /** `await using ledger = await Ledger.open(…)` closes it at the end of the scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Commits what is queued and closes the file. */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.flush();
    this.#closed = true;
    this.#commits.closed = true;
    clearInterval(this.#ticker);
    await this.store.close();
  }
}
