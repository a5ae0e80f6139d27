import { TroupeError } from "../runtime/errors.ts";

/** What went wrong with the ledger; each error's message says what to do. */
export type LedgerErrorCode =
  | "not_a_ledger"
  | "open_failed"
  | "append_failed"
  | "closed"
  | "query_refused"
  | "query_failed"
  | "query_timeout"
  | "unsupported"
  | "invalid_event";

/** A ledger error with a code, and a message that says what to do. */
export class LedgerError extends TroupeError<LedgerErrorCode> {
  constructor(code: LedgerErrorCode, message: string, context: Record<string, unknown> = {}) {
    super(code, message, context);
    this.name = "LedgerError";
  }
}
