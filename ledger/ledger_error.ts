export type LedgerErrorCode =
  | "not_a_ledger"
  | "open_failed"
  | "append_failed"
  | "closed"
  | "query_refused"
  | "query_failed"
  | "query_timeout"
  | "unsupported";

/** A ledger error with a code, and a message that says what to do. */
export class LedgerError extends Error {
  constructor(
    readonly code: LedgerErrorCode,
    message: string,
    readonly context: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = "LedgerError";
  }
}
