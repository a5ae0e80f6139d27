/** A message that was not handled, and why. */
export interface DeadLetter {
  to: string;
  from?: string;
  messageType: string;
  message: unknown;
  reason: string;
}

/** The most of a dead letter's message that is kept (and recorded in a ledger): 4 KiB as JSON. */
const DEAD_LETTER_BYTES = 4096;

/**
 * A dead letter's message as kept: whole when small, else its size and the start of it, so that
 * a flood of huge messages to nowhere cannot fill memory or the ledger.
 */
export function keepable(message: unknown): unknown {
  if (message === null || typeof message === "number" || typeof message === "boolean") {
    return message;
  }
  let text: string;
  try {
    text = typeof message === "string" ? message : JSON.stringify(message) ?? String(message);
  } catch {
    return { unserializable: String(message).slice(0, 256) };
  }
  if (text.length <= DEAD_LETTER_BYTES) return message;
  return { truncated: true, bytes: text.length, start: text.slice(0, 256) };
}
