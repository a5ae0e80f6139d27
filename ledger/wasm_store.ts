import * as duckdb from "@duckdb/duckdb-wasm/dist/duckdb-node-blocking.cjs";
import * as arrow from "apache-arrow";
import { createRequire } from "node:module";
import type { LedgerRow } from "./ledger_event.ts";
import { LedgerError } from "./ledger_error.ts";
import type { LedgerStore, StoreOptions } from "./ledger_store.ts";
import {
  DEFAULT_QUERY_LIMITS,
  limitedResult,
  queryErrors,
  type QueryOptions,
  type QueryResult,
} from "./readonly_sql.ts";
import { ensureSchema } from "./schema.ts";
import { addJsonFunctions, WASM_RUNTIME } from "./wasm_functions.ts";

/**
 * Statements that only read (those the native engine's statement type calls SELECT); anything
 * else is refused before it runs.
 */
const READING = new Set([
  "SELECT",
  "WITH",
  "FROM",
  "VALUES",
  "TABLE",
  "PIVOT",
  "UNPIVOT",
  "DESCRIBE",
  "SHOW",
  "SUMMARIZE",
]);
const ATTACHED = "ledger";

/**
 * Arrow values to plain JavaScript: rows and lists (anything with `toJSON`, from either copy of
 * Arrow) to objects and arrays, timestamps to Dates.
 */
function fromArrow(value: unknown, type?: arrow.DataType): unknown {
  if (value === null || value === undefined) return null;
  if (type && (arrow.DataType.isTimestamp(type) || arrow.DataType.isDate(type))) {
    return new Date(Number(value));
  }
  if (typeof value === "object" && "toJSON" in value && !(value instanceof Date)) {
    return fromArrow((value as { toJSON(): unknown }).toJSON());
  }
  if (Array.isArray(value)) return value.map((v) => fromArrow(v));
  if (typeof value === "object" && !(value instanceof Date)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fromArrow(v)]));
  }
  return value;
}

function tableRows(table: arrow.Table): Record<string, unknown>[] {
  const fields = table.schema.fields;
  return table.toArray().map((row) => {
    const out: Record<string, unknown> = {};
    for (const f of fields) out[f.name] = fromArrow(row[f.name], f.type);
    return out;
  });
}

/** `$name` parameters (troupe's queries) to DuckDB-wasm's positional `?` ones. */
function positional(sql: string, params: Record<string, string | number>) {
  const values: (string | number)[] = [];
  const text = sql.replace(/\$([A-Za-z_]\w*)/g, (_, name: string) => {
    if (!(name in params)) throw new Error(`no value for parameter $${name}`);
    values.push(params[name]);
    return "?";
  });
  return { text, values };
}

/**
 * The ledger in `@duckdb/duckdb-wasm` (DuckDB compiled to WebAssembly), for hosts that do not
 * grant FFI. Its read-write files do not keep their tables across close and reopen in Deno, so it
 * keeps a writable ledger in memory only, and reads a file (a snapshot taken at open) read-only.
 */
export class WasmStore implements LedgerStore {
  readonly engine = "wasm";

  private constructor(
    readonly path: string,
    readonly db: duckdb.DuckDBBindings,
    /** Schema, commits and troupe's own queries: all synchronous. */
    readonly writer: duckdb.DuckDBConnection,
    /** User SQL, which runs as a pending query polled against its time limit. */
    readonly reader: duckdb.DuckDBConnection,
    readonly readOnly: boolean,
  ) {}

  static async open(path: string, options: StoreOptions): Promise<WasmStore> {
    if (path !== ":memory:" && !options.readOnly) {
      throw new LedgerError(
        "open_failed",
        `the wasm engine cannot write the ledger file ${path}: duckdb-wasm files do not keep ` +
          `their tables across close and reopen in Deno. Open it read-only, use --ledger :memory:, ` +
          `or use the native engine.`,
        { path },
      );
    }
    const wasm = createRequire(import.meta.url).resolve("@duckdb/duckdb-wasm/dist/duckdb-eh.wasm");
    // The blocking build runs on the calling thread: it has no worker script.
    const bundle = { mainModule: wasm, mainWorker: "" };
    const db = await duckdb.createDuckDB(
      { mvp: bundle, eh: bundle },
      new duckdb.VoidLogger(),
      WASM_RUNTIME,
    );
    await db.instantiate(() => {});
    db.open({ path: ":memory:", query: { castBigIntToDouble: false, castDecimalToDouble: true } });
    const writer = db.connect();
    const reader = db.connect();
    const store = new WasmStore(path, db, writer, reader, options.readOnly);
    try {
      // First of all: a function DuckDB knows from an extension must fail, not be fetched.
      writer.query("SET GLOBAL autoinstall_known_extensions = false");
      writer.query("SET GLOBAL autoload_known_extensions = false");
      addJsonFunctions(writer); // database-wide: the reader sees them too
      if (path !== ":memory:") {
        db.registerFileBuffer(`${ATTACHED}.duckdb`, await Deno.readFile(path));
        store.#run(`ATTACH '${ATTACHED}.duckdb' AS ${ATTACHED} (READ_ONLY)`, path);
        writer.query(`USE ${ATTACHED}`);
        reader.query(`USE ${ATTACHED}`);
      }
      await ensureSchema(
        {
          run: (sql) => Promise.resolve(void writer.query(sql)),
          rows: (sql) => Promise.resolve(tableRows(writer.query(sql))),
        },
        path,
        { writable: !options.readOnly, payloadType: "VARCHAR" },
      );
      if (!options.externalAccess) writer.query("SET enable_external_access = false");
      writer.query("SET lock_configuration = true");
      return store;
    } catch (err) {
      store.close();
      throw err instanceof LedgerError
        ? err
        : new LedgerError("open_failed", `cannot open ledger ${path}: ${(err as Error).message}`, {
          path,
        });
    }
  }

  #run(sql: string, path: string): void {
    try {
      this.writer.query(sql);
    } catch (err) {
      throw new LedgerError(
        "not_a_ledger",
        `${path} cannot be read as a DuckDB ledger: ${(err as Error).message.split("\n")[0]}`,
        { path },
      );
    }
  }

  /** One Arrow batch per commit: DuckDB inserts it in one statement, so all rows or none. */
  commit(rows: LedgerRow[]): void {
    if (this.readOnly) throw new Error("the ledger is open read-only");
    const column = <T>(pick: (r: LedgerRow) => T, type: arrow.DataType) =>
      arrow.vectorFromArray(rows.map(pick), type);
    const text = new arrow.Utf8();
    const int = new arrow.Int64();
    const batch = new arrow.Table({
      seq: column((r) => BigInt(r.seq), int),
      ts: column((r) => r.ts, new arrow.TimestampMillisecond()),
      run_id: column((r) => r.runId, text),
      actor: column((r) => r.actor, text),
      type: column((r) => r.type, text),
      causation_id: column((r) => r.causationId === null ? null : BigInt(r.causationId), int),
      correlation_id: column((r) => r.correlationId, text),
      payload: column((r) => r.payload, text),
      prev_hash: column((r) => r.prevHash, text),
      hash: column((r) => r.hash, text),
    });
    // Serialized here: duckdb-wasm's own insertArrowTable serializes with its CommonJS copy of
    // Arrow, which does not recognise this module's Table and writes nothing.
    const ipc = arrow.tableToIPC(batch, "stream");
    this.writer.insertArrowFromIPCStream(ipc, { name: "events", create: false });
  }

  select(
    sql: string,
    params: Record<string, string | number> = {},
  ): Promise<Record<string, unknown>[]> {
    try {
      const { text, values } = positional(sql, params);
      const statement = this.writer.prepare(text);
      try {
        return Promise.resolve(tableRows(statement.query(...values)));
      } finally {
        statement.close();
      }
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * DuckDB-wasm does not say a prepared statement's type, so the first keyword (from DuckDB's
   * own tokenizer) decides: only reading statements run. Preparing first gives parse errors and
   * the one-statement rule; the read-only transaction and the locked, file-less configuration
   * hold whatever the keyword check let through.
   */
  async query(sql: string, options: QueryOptions = {}): Promise<QueryResult> {
    const { timeoutMs, maxRows, maxBytes } = { ...DEFAULT_QUERY_LIMITS, ...options };
    const conn = this.reader;
    try {
      conn.prepare(sql).close();
    } catch (err) {
      const message = (err as Error).message;
      if (/multiple statements/i.test(message)) throw queryErrors.notOne("more than one");
      if (/^Parser Error/.test(message)) throw queryErrors.unparsable(message);
      throw queryErrors.cannotRun(message);
    }
    const kind = this.#firstKeyword(sql);
    if (!READING.has(kind)) throw queryErrors.notSelect(kind);
    conn.query("BEGIN TRANSACTION READ ONLY");
    try {
      return await conn.useUnsafe(async (bindings, id) => {
        const deadline = performance.now() + timeoutMs;
        let header: Uint8Array | null;
        try {
          header = bindings.startPendingQuery(id, sql, true);
          while (header === null) {
            if (performance.now() > deadline) {
              bindings.cancelPendingQuery(id);
              throw queryErrors.timedOut(timeoutMs);
            }
            // Lets timers (the ledger's group commit) run between steps of a long query.
            await new Promise((r) => setTimeout(r, 0));
            header = bindings.pollPendingQuery(id);
          }
          const chunks = [header];
          let table = arrow.tableFromIPC(chunks);
          while (table.numRows <= maxRows) {
            if (performance.now() > deadline) throw queryErrors.timedOut(timeoutMs);
            const chunk = bindings.fetchQueryResults(id); // null: not ready yet
            if (chunk === null) continue;
            if (chunk.length === 0) break;
            chunks.push(chunk);
            table = arrow.tableFromIPC(chunks);
          }
          return limitedResult(
            table.schema.fields.map((f) => f.name),
            tableRows(table),
            maxRows,
            maxBytes,
          );
        } catch (err) {
          if (err instanceof LedgerError) throw err;
          throw queryErrors.failed((err as Error).message);
        }
      });
    } finally {
      try {
        conn.query("ROLLBACK");
      } catch { /* the transaction ended with the failed query */ }
    }
  }

  #firstKeyword(sql: string): string {
    const tokens = this.db.tokenize(sql);
    for (let i = 0; i < tokens.offsets.length; i++) {
      const start = tokens.offsets[i];
      const text = sql.slice(start, tokens.offsets[i + 1] ?? sql.length).trim();
      if (text === "" || text.startsWith("--") || text.startsWith("/*") || text === "(") continue;
      return text.split(/\s/)[0].toUpperCase();
    }
    return "EMPTY";
  }

  /** Parquet is a DuckDB extension, which duckdb-wasm would fetch from the network. */
  exportParquet(_file: string): Promise<void> {
    return Promise.reject(
      new LedgerError(
        "unsupported",
        "the wasm engine cannot write Parquet (DuckDB's parquet extension is not built into " +
          "duckdb-wasm and cannot be fetched offline); export with --engine native",
      ),
    );
  }

  close(): void {
    for (const conn of [this.reader, this.writer]) {
      try {
        conn.close();
      } catch { /* already closed */ }
    }
    this.db.reset();
  }
}
