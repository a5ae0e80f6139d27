import { type DuckDBConnection, StatementType } from "@duckdb/node-api";
import { LedgerError } from "./ledger_error.ts";

export interface QueryOptions {
  timeoutMs?: number;
  maxRows?: number;
}

export interface QueryResult {
  columns: string[];
  rows: Record<string, unknown>[];
  /** True when more rows existed than `maxRows`. */
  truncated: boolean;
}

const STATEMENT_NAMES = Object.fromEntries(
  Object.entries(StatementType).filter(([, v]) => typeof v === "number").map(([k, v]) => [v, k]),
) as Record<number, string>;

/** BIGINTs become numbers where exact, so JSON output stays plain. */
function plain(value: unknown): unknown {
  if (typeof value === "bigint") {
    return value >= Number.MIN_SAFE_INTEGER && value <= Number.MAX_SAFE_INTEGER
      ? Number(value)
      : value.toString();
  }
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}

/**
 * Runs one SELECT in a read-only transaction with a time and row limit. Writes, DDL, COPY,
 * ATTACH, INSTALL and SET are refused by statement type before running; file and network
 * access is refused by the database's own configuration.
 */
export async function readOnlyQuery(
  conn: DuckDBConnection,
  sql: string,
  options: QueryOptions = {},
): Promise<QueryResult> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const maxRows = options.maxRows ?? 10_000;
  let extracted;
  try {
    extracted = await conn.extractStatements(sql);
  } catch (err) {
    throw new LedgerError("query_failed", `the query does not parse: ${(err as Error).message}`);
  }
  if (extracted.count !== 1) {
    throw new LedgerError(
      "query_refused",
      `give exactly one SQL statement; this has ${extracted.count}`,
    );
  }
  await conn.run("BEGIN TRANSACTION READ ONLY");
  const timer = setTimeout(() => conn.interrupt(), timeoutMs);
  try {
    let prepared;
    try {
      prepared = await extracted.prepare(0);
    } catch (err) {
      throw new LedgerError("query_failed", `the query cannot run: ${(err as Error).message}`);
    }
    const kind = STATEMENT_NAMES[prepared.statementType] ?? String(prepared.statementType);
    if (prepared.statementType !== StatementType.SELECT) {
      throw new LedgerError(
        "query_refused",
        `only SELECT queries may run over the ledger; this is a ${kind} statement (the ledger is append-only ` +
          `and queries cannot write, read files, attach databases or change settings)`,
        { statementType: kind },
      );
    }
    let reader;
    try {
      reader = await prepared.streamAndReadUntil(maxRows + 1);
    } catch (err) {
      const message = (err as Error).message;
      if (/interrupt/i.test(message)) {
        throw new LedgerError(
          "query_timeout",
          `the query ran longer than ${timeoutMs} ms and was stopped`,
          { timeoutMs },
        );
      }
      throw new LedgerError("query_failed", `the query failed: ${message}`);
    }
    const columns = reader.deduplicatedColumnNames();
    const all = reader.getRowObjectsJS();
    return {
      columns,
      rows: all.slice(0, maxRows).map((r) => plain(r) as Record<string, unknown>),
      truncated: all.length > maxRows,
    };
  } finally {
    clearTimeout(timer);
    await conn.run("ROLLBACK").catch(() => {});
  }
}
