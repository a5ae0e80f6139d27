import {
  type DuckDBAppender,
  type DuckDBConnection,
  DuckDBInstance,
  DuckDBTimestampValue,
  JSDuckDBValueConverter,
  StatementType,
} from "@duckdb/node-api";
import type { LedgerRow } from "./ledger_event.ts";
import { LedgerError } from "./ledger_error.ts";
import type { LedgerStore, StoreOptions } from "./ledger_store.ts";
import {
  DEFAULT_QUERY_LIMITS,
  queryErrors,
  type QueryOptions,
  type QueryResult,
  RowBudget,
} from "./readonly_sql.ts";
import { ensureSchema } from "./schema.ts";

const STATEMENT_NAMES = Object.fromEntries(
  Object.entries(StatementType).filter(([, v]) => typeof v === "number").map(([k, v]) => [v, k]),
) as Record<number, string>;

/** The ledger in a DuckDB file through `@duckdb/node-api` (FFI): durable and fast. */
export class NativeStore implements LedgerStore {
  readonly engine = "native";

  private constructor(
    readonly path: string,
    readonly instance: DuckDBInstance,
    readonly writer: DuckDBConnection,
    readonly reader: DuckDBConnection,
    readonly appender: DuckDBAppender | undefined,
  ) {}

  /** External access is disabled and configuration locked: ledger SQL reaches only the ledger. */
  static async open(path: string, options: StoreOptions): Promise<NativeStore> {
    let instance: DuckDBInstance;
    try {
      instance = await DuckDBInstance.create(path, {
        access_mode: options.readOnly ? "READ_ONLY" : "READ_WRITE",
        enable_external_access: options.externalAccess ? "true" : "false",
        lock_configuration: "true",
      });
    } catch (err) {
      throw new LedgerError(
        "open_failed",
        `cannot open ledger ${path}: ${(err as Error).message}`,
        {
          path,
        },
      );
    }
    try {
      const writer = await instance.connect();
      await ensureSchema(
        {
          run: async (sql) => void await writer.run(sql),
          rows: async (sql) => (await writer.runAndReadAll(sql)).getRowObjectsJS(),
        },
        path,
        { writable: !options.readOnly, payloadType: "JSON" },
      );
      // Created once, so that a commit never awaits DuckDB and runs start to end on one tick.
      const appender = options.readOnly ? undefined : await writer.createAppender("events");
      return new NativeStore(path, instance, writer, await instance.connect(), appender);
    } catch (err) {
      instance.closeSync();
      if (err instanceof LedgerError) throw err;
      // Creating the tables writes too: a full disk or a read-only folder fails here.
      throw new LedgerError(
        "open_failed",
        `cannot set up ledger ${path}: ${(err as Error).message}; check that its disk has ` +
          `space and its folder is writable`,
        { path },
      );
    }
  }

  commit(rows: LedgerRow[]): void {
    const appender = this.appender;
    if (!appender) throw new Error("the ledger is open read-only");
    try {
      for (const row of rows) {
        appender.appendBigInt(BigInt(row.seq));
        appender.appendTimestamp(new DuckDBTimestampValue(BigInt(row.ts) * 1000n));
        row.runId === null ? appender.appendNull() : appender.appendVarchar(row.runId);
        appender.appendVarchar(row.actor);
        appender.appendVarchar(row.type);
        row.causationId === null
          ? appender.appendNull()
          : appender.appendBigInt(BigInt(row.causationId));
        row.correlationId === null
          ? appender.appendNull()
          : appender.appendVarchar(row.correlationId);
        appender.appendVarchar(row.payload);
        appender.appendVarchar(row.prevHash);
        appender.appendVarchar(row.hash);
        appender.endRow();
      }
      appender.flushSync(); // commits the batch; DuckDB syncs its WAL before returning
    } catch (err) {
      appender.clear();
      throw err;
    }
  }

  async select(
    sql: string,
    params: Record<string, string | number> = {},
  ): Promise<Record<string, unknown>[]> {
    return (await this.reader.runAndReadAll(sql, params)).getRowObjectsJS();
  }

  /**
   * Writes, DDL, COPY, ATTACH, INSTALL and SET are refused by statement type before running;
   * file and network access is refused by the database's own configuration.
   */
  async query(sql: string, options: QueryOptions = {}): Promise<QueryResult> {
    const { timeoutMs, maxRows, maxBytes } = { ...DEFAULT_QUERY_LIMITS, ...options };
    // A connection of its own: a slow query holds up no other reader (the server's pages), and
    // its interrupt stops it alone.
    const conn = await this.instance.connect();
    try {
      let extracted;
      try {
        extracted = await conn.extractStatements(sql);
      } catch (err) {
        throw queryErrors.unparsable((err as Error).message);
      }
      if (extracted.count !== 1) throw queryErrors.notOne(extracted.count);
      await conn.run("BEGIN TRANSACTION READ ONLY");
      const timer = setTimeout(() => conn.interrupt(), timeoutMs);
      try {
        let prepared;
        try {
          prepared = await extracted.prepare(0);
        } catch (err) {
          throw queryErrors.cannotRun((err as Error).message);
        }
        if (prepared.statementType !== StatementType.SELECT) {
          throw queryErrors.notSelect(
            STATEMENT_NAMES[prepared.statementType] ?? String(prepared.statementType),
          );
        }
        try {
          // Chunk by chunk, stopping at the first row past a limit: what is cut is never held.
          const result = await prepared.stream();
          const columns = result.deduplicatedColumnNames();
          const budget = new RowBudget(maxRows, maxBytes);
          for (let chunk; (chunk = await result.fetchChunk()) && chunk.rowCount > 0;) {
            const rows = chunk.convertRows(JSDuckDBValueConverter);
            if (
              !rows.every((r) => budget.add(Object.fromEntries(columns.map((c, i) => [c, r[i]]))))
            ) {
              break;
            }
          }
          return { columns, rows: budget.rows, truncated: budget.truncated };
        } catch (err) {
          const message = (err as Error).message;
          throw /interrupt/i.test(message)
            ? queryErrors.timedOut(timeoutMs)
            : queryErrors.failed(message);
        }
      } finally {
        clearTimeout(timer);
      }
    } finally {
      conn.closeSync();
    }
  }

  async exportParquet(file: string): Promise<void> {
    const quoted = file.replaceAll("'", "''");
    await this.writer.run(
      `COPY (SELECT * FROM events ORDER BY seq) TO '${quoted}' (FORMAT parquet)`,
    );
  }

  close(): void {
    this.appender?.closeSync();
    this.writer.closeSync();
    this.reader.closeSync();
    this.instance.closeSync();
  }
}
