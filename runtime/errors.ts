import type { z } from "zod";
import { issuesText } from "./issues_text.ts";

/**
 * Errors are values with a code, a message a person can act on, and the context. Every layer's
 * errors extend `TroupeError`, so callers match them with `instanceof` and read `code`.
 */

/** The runtime's own codes; other layers' errors bring theirs. */
export type ErrorCode =
  | "ask_timeout"
  | "mailbox_full"
  | "actor_not_found"
  | "actor_stopped"
  | "invalid_message"
  | "invalid_spec"
  | "actor_crashed"
  | "unresponsive"
  | "over_memory"
  | "unhealthy"
  | "system_stopping"
  | "init_failed"
  | "too_large"
  /** The node of the cluster that held the actor went down while it was asked. */
  | "node_down";

/** The one base of troupe's errors: a `code`, a message that says what to do, and the `context` (actor, message type, file, field). */
export class TroupeError<C extends string = ErrorCode> extends Error {
  constructor(
    readonly code: C,
    message: string,
    readonly context: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = "TroupeError";
  }
}

/** A plain, structured-cloneable form of an error, for workers and the event stream. */
export interface ErrorInfo {
  name: string;
  message: string;
  code?: string;
  stack?: string;
}

export function toErrorInfo(err: unknown): ErrorInfo {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return {
      name: err.name,
      message: err.message,
      ...(typeof code === "string" ? { code } : {}),
      ...(err.stack ? { stack: err.stack } : {}),
    };
  }
  return { name: "Error", message: String(err) };
}

export function fromErrorInfo(info: ErrorInfo): Error {
  const err = new Error(info.message);
  err.name = info.name;
  if (info.stack) err.stack = info.stack;
  if (info.code) (err as Error & { code?: string }).code = info.code;
  return err;
}

/** The `type` field of a message, used to name messages in errors and events. */
export function messageType(message: unknown): string {
  if (message && typeof message === "object" && "type" in message) {
    const t = (message as { type: unknown }).type;
    if (typeof t === "string") return t;
  }
  return typeof message;
}

/** Parses `input` or throws an `invalid_spec` error naming `what` and every problem in it. */
export function parseOrThrow<T>(schema: z.ZodType<T, unknown>, input: unknown, what: string): T {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  throw new TroupeError("invalid_spec", `invalid ${what}:\n${issuesText(parsed.error)}`, {
    input,
  });
}
