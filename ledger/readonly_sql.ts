import { LedgerError } from "./ledger_error.ts";

/** Limits on one user query. */
export interface QueryOptions {
  timeoutMs?: number;
  maxRows?: number;
}

/** The rows of one user query, and whether they were cut at the row limit. */
export interface QueryResult {
  columns: string[];
  rows: Record<string, unknown>[];
  /** True when more rows existed than `maxRows`. */
  truncated: boolean;
}

export const DEFAULT_QUERY_LIMITS = { timeoutMs: 10_000, maxRows: 10_000 };

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

/** The first `maxRows` of `rows` (fetched one past the limit, to tell whether there were more). */
export function limitedResult(
  columns: string[],
  rows: Record<string, unknown>[],
  maxRows: number,
): QueryResult {
  return {
    columns,
    rows: rows.slice(0, maxRows).map((r) => plain(r) as Record<string, unknown>),
    truncated: rows.length > maxRows,
  };
}

/** The refusals and failures both engines give for user SQL, worded once. */
export const queryErrors = {
  unparsable: (message: string) =>
    new LedgerError("query_failed", `the query does not parse: ${message}`),
  notOne: (count: number | string) =>
    new LedgerError(
      "query_refused",
      `give exactly one SQL statement; this has ${count}`,
    ),
  cannotRun: (message: string) =>
    new LedgerError("query_failed", `the query cannot run: ${message}`),
  notSelect: (kind: string) =>
    new LedgerError(
      "query_refused",
      `only SELECT queries may run over the ledger; this is a ${kind} statement (the ledger is append-only ` +
        `and queries cannot write, read files, attach databases or change settings)`,
      { statementType: kind },
    ),
  timedOut: (timeoutMs: number) =>
    new LedgerError(
      "query_timeout",
      `the query ran longer than ${timeoutMs} ms and was stopped`,
      { timeoutMs },
    ),
  failed: (message: string) => new LedgerError("query_failed", `the query failed: ${message}`),
};
