import type { Context, MiddlewareHandler } from "hono";
import { z } from "zod";
import { eventType, type Ledger } from "../../ledger/mod.ts";
import type { Env } from "../control_context.ts";

/** A mutating call, recorded with who made it. */
export const ControlCall = eventType(
  "control_call",
  z.object({
    method: z.string(),
    path: z.string(),
    status: z.number().int(),
    caller: z.string(),
    role: z.string(),
  }),
);

/** Every mutating call is a ledger event naming the caller's token and role. */
export function recordMutations(ledger: Ledger): MiddlewareHandler<Env> {
  return async (c: Context<Env>, next) => {
    await next();
    if (c.req.method === "GET" || c.req.method === "HEAD" || c.req.method === "OPTIONS") return;
    // An MCP message is not a mutation; the tool calls it makes are, and are recorded as such.
    if (c.req.path === "/mcp") return;
    const caller = c.get("caller");
    if (!caller) return; // refused before it was known who called
    await ledger.record(ControlCall, {
      actor: "control",
      payload: {
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        caller: caller.name,
        role: caller.role,
      },
    }).catch(() => {});
  };
}
