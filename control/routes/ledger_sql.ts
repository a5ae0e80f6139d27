import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { z } from "zod";
import { ErrorBody } from "../http_errors.ts";
import type { ControlContext } from "../control_context.ts";
import type { Env } from "../control_context.ts";
import { need } from "../middleware/require_role.ts";
import { body, errors, json, routeGroup } from "./route_kit.ts";

/** The most a SQL answer may hold, as JSON (8 MiB): a few huge rows cost as much as many. */
const MAX_SQL_BYTES = 8 * 2 ** 20;

/** A read-only query and its limits, as `POST /ledger/sql` takes it. */
export const SqlRequest = z.strictObject({
  query: z.string().min(1).max(100_000),
  maxRows: z.number().int().min(1).max(10_000).default(1000),
  maxBytes: z.number().int().min(1).max(MAX_SQL_BYTES).default(MAX_SQL_BYTES)
    .describe("the rows' size as JSON; past it the result is cut (truncated: true)"),
  timeoutMs: z.number().int().min(1).max(10_000).default(10_000),
});

/** One read-only SELECT over the ledger, on a connection of its own, with limits. */
export function ledgerSqlRoutes(ctx: ControlContext): OpenAPIHono<Env> {
  const app = routeGroup();
  const queries = new Map<string, number>();
  app.openapi(
    createRoute({
      method: "post",
      path: "/ledger/sql",
      summary: "one read-only SELECT over the ledger, on a connection of its own, with limits",
      request: body(SqlRequest),
      responses: {
        200: json(
          z.object({
            columns: z.array(z.string()),
            rows: z.array(z.record(z.string(), z.unknown())),
            truncated: z.boolean(),
          }),
          "the rows",
        ),
        ...errors,
        408: json(ErrorBody, "the query ran past its time limit"),
        429: json(ErrorBody, "this token has as many queries running as it may"),
      },
      middleware: [need("read")],
    }),
    async (c) => {
      const { query, maxRows, maxBytes, timeoutMs } = c.req.valid("json");
      const caller = c.get("caller").name;
      const running = queries.get(caller) ?? 0;
      const limit = ctx.maxQueriesPerToken ?? 2;
      if (running >= limit) {
        return c.json({
          error: {
            code: "too_many_queries",
            message: `at most ${limit} SQL queries at once per token; wait for one to end`,
          },
        }, 429);
      }
      queries.set(caller, running + 1);
      try {
        return c.json(await ctx.ledger.query(query, { maxRows, maxBytes, timeoutMs }), 200);
      } finally {
        queries.set(caller, (queries.get(caller) ?? 1) - 1);
      }
    },
  );

  return app;
}
