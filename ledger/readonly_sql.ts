import { LedgerError } from "./ledger_error.ts";

/** Limits on one user query. */
export interface QueryOptions {
  timeoutMs?: number;
  maxRows?: number;
  /** The rows' size as JSON: a result past it is cut there (a few huge rows are as bad as many). */
  maxBytes?: number;
}

/** The rows of one user query, and whether they were cut at the row limit. */
export interface QueryResult {
  columns: string[];
  rows: Record<string, unknown>[];
  /** True when more rows existed than `maxRows`. */
  truncated: boolean;
}

export const DEFAULT_QUERY_LIMITS = { timeoutMs: 10_000, maxRows: 10_000, maxBytes: 16 * 2 ** 20 };

/** BIGINTs become numbers where exact, so JSON output stays plain. */
export function plain(value: unknown): unknown {
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
 * The first `maxRows` of `rows` (fetched one past the limit, to tell whether there were more),
 * and no more than `maxBytes` of them as JSON.
 */
export function limitedResult(
  columns: string[],
  rows: Record<string, unknown>[],
  maxRows: number,
  maxBytes = DEFAULT_QUERY_LIMITS.maxBytes,
): QueryResult {
  const out = new RowBudget(maxRows, maxBytes);
  for (const row of rows) if (!out.add(row)) break;
  return { columns, rows: out.rows, truncated: out.truncated };
}

/** Rows taken while they fit the limits; `add` says whether to go on. */
export class RowBudget {
  readonly rows: Record<string, unknown>[] = [];
  truncated = false;
  #bytes = 0;

  constructor(readonly maxRows: number, readonly maxBytes: number) {}

  /** Takes a row if it fits; false (and truncated) once one does not. */
  add(row: Record<string, unknown>): boolean {
    const value = plain(row) as Record<string, unknown>;
    this.#bytes += JSON.stringify(value).length;
    if (this.rows.length >= this.maxRows || this.#bytes > this.maxBytes) {
      this.truncated = true;
      return false;
    }
    this.rows.push(value);
    return true;
  }
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
