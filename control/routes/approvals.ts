import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { z } from "zod";
import {
  castVote,
  listApprovals,
  readRequest,
  readTrustList,
  SignedVote,
} from "../../policies/mod.ts";
import { ErrorBody } from "../http_errors.ts";
import type { ControlContext } from "../control_context.ts";
import type { Env } from "../control_context.ts";
import { need } from "../middleware/require_role.ts";
import { body, errors, json, routeGroup, RunId } from "./route_kit.ts";

/** Approval requests and signed votes. */
export function approvalRoutes(ctx: ControlContext): OpenAPIHono<Env> {
  const app = routeGroup();
  app.openapi(
    createRoute({
      method: "get",
      path: "/approvals",
      summary: "approval requests with their votes and how each stands",
      responses: { 200: json(z.array(z.record(z.string(), z.unknown())), "requests"), ...errors },
      middleware: [need("read")],
    }),
    async (c) => c.json(await listApprovals(ctx.approvals), 200),
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/approvals/{id}/votes",
      summary: "cast a signed vote, as `deno task approve` makes it",
      request: { params: RunId, ...body(SignedVote) },
      responses: {
        201: json(z.object({ file: z.string() }), "the vote is in the inbox"),
        404: json(ErrorBody, "no such approval"),
        409: json(ErrorBody, "already decided"),
        422: json(ErrorBody, "this vote would not count, and why"),
        ...errors,
      },
      middleware: [need("approve")],
    }),
    async (c) => {
      const request = await readRequest(ctx.approvals, c.req.valid("param").id);
      const file = await castVote(
        ctx.approvals,
        c.req.valid("json"),
        request,
        await readTrustList(ctx.keys),
      );
      return c.json({ file }, 201);
    },
  );

  return app;
}
