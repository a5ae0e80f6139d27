import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { z } from "zod";
import { LedgerError } from "../ledger/mod.ts";
import { TroupeError } from "../runtime/mod.ts";

/** Every error leaves the server in one shape. */
export const ErrorBody = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  }),
});

/** The HTTP status of each of troupe's error codes. */
const STATUS_OF: Record<string, 400 | 403 | 404 | 408 | 409 | 413 | 422> = {
  ask_timeout: 408,
  invalid_message: 422,
  actor_crashed: 422,
  actor_stopped: 409,
  mailbox_full: 409,
  not_found: 404,
  actor_not_found: 404,
  conflict: 409,
  already_decided: 409,
  invalid_spec: 400,
  invalid_file: 422,
  vote_refused: 422,
  query_refused: 400,
  query_failed: 400,
  query_timeout: 408,
  invalid_plan: 422,
  too_large: 413,
  forbidden: 403,
};

/** Every error as the one shape: troupe's own keep their code, HTTP's are `http_STATUS`. */
export function errorResponse(err: Error, c: Context): Response {
  if (err instanceof HTTPException) {
    const status = err.status;
    const message = status === 400 && /JSON/i.test(err.message)
      ? `the body is not valid JSON: ${err.message}`
      : err.message || "request refused";
    return c.json({ error: { code: `http_${status}`, message } }, status);
  }
  if (err instanceof TroupeError) {
    const status = STATUS_OF[err.code] ?? (err instanceof LedgerError ? 400 : 422);
    return c.json({ error: { code: err.code, message: err.message } }, status);
  }
  return c.json(
    { error: { code: "internal", message: `troupe could not do this: ${err.message}` } },
    500,
  );
}

/** A route that does not exist, in the one shape. */
export function notFound(c: Context): Response {
  return c.json({
    error: {
      code: "not_found",
      message: `no route ${c.req.method} ${c.req.path}; see /openapi.json`,
    },
  }, 404);
}
