import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { z } from "zod";
import type { ControlContext } from "../control_context.ts";
import type { Env } from "../control_context.ts";
import { need } from "../middleware/require_role.ts";
import { errors, json, routeGroup } from "./route_kit.ts";

/** Liveness, readiness and Prometheus metrics. */
export function operationRoutes(ctx: ControlContext): OpenAPIHono<Env> {
  const app = routeGroup();
  app.openapi(
    createRoute({
      method: "get",
      path: "/health",
      summary: "liveness, without a token",
      responses: { 200: json(z.object({ ok: z.literal(true) }), "the server is up") },
    }),
    (c) => c.json({ ok: true as const }, 200),
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/ready",
      summary: "readiness: the ledger is open and how far it is",
      responses: {
        200: json(z.object({ ready: z.boolean(), seq: z.number() }), "ready"),
        ...errors,
      },
      middleware: [need("read")],
    }),
    // No server path: a caller has no use for where the ledger is kept.
    (c) => c.json({ ready: true, seq: ctx.ledger.head.seq }, 200),
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/metrics",
      summary: "Prometheus metrics: messages, mailboxes, restarts, tasks, ledger, model spend",
      responses: { 200: { description: "Prometheus text format" }, ...errors },
      middleware: [need("read")],
    }),
    async (c) =>
      c.body(await ctx.metrics.metrics(), 200, { "content-type": ctx.metrics.contentType }),
  );

  return app;
}
