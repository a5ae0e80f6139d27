import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { z } from "zod";
import { TroupeError } from "../../runtime/mod.ts";
import { diffRuns, recordedReport, recoverRun } from "../../actors/mod.ts";
import { ErrorBody } from "../http_errors.ts";
import {
  confineFork,
  confineRun,
  RemoteForkRequest,
  RemoteRunRequest,
} from "../run_confinement.ts";
import { RunView } from "../run_view.ts";
import { RunPicture, runPicture } from "../run_picture.ts";
import type { ControlContext } from "../control_context.ts";
import type { Env } from "../control_context.ts";
import { need } from "../middleware/require_role.ts";
import { body, errors, json, routeGroup, RunId } from "./route_kit.ts";

/** A run's report as `GET /runs/{id}/report` gives it. */
export const RecordedReport = z.object({
  report: z.record(z.string(), z.unknown()),
  markdown: z.string(),
  files: z.array(z.object({
    path: z.string(),
    mode: z.string(),
    content: z.string(),
    reason: z.string().optional(),
  })),
});

/** Runs: submit (confined by the server's configuration), list, view, page through events, cancel, resume. */
export function runRoutes(ctx: ControlContext): OpenAPIHono<Env> {
  const app = routeGroup();
  /** A run's view, or the 404 that names it. */
  const viewOf = async (id: string) => {
    const view = await ctx.runs.view(id);
    if (!view) throw new TroupeError("not_found", `no run "${id}" in ${ctx.ledger.path}`);
    return view;
  };
  app.openapi(
    createRoute({
      method: "post",
      path: "/runs",
      summary: "submit a run on a repository under the server's roots, within its role's limits",
      request: body(RemoteRunRequest),
      responses: {
        202: json(z.object({ runId: z.string() }), "started; follow it at /runs/{id} or /events"),
        ...errors,
        422: json(ErrorBody, "a policy or pack file of the server's is invalid"),
      },
      middleware: [need("operate")],
    }),
    async (c) => {
      const run = await confineRun(c.req.valid("json"), c.get("caller"), ctx.confinement);
      return c.json({ runId: await ctx.runs.submit(run) }, 202);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/runs",
      summary: "the runs in the ledger, newest first",
      request: { query: z.object({ limit: z.coerce.number().int().min(1).max(500).default(50) }) },
      responses: { 200: json(z.array(RunView.omit({ tasks: true })), "runs"), ...errors },
      middleware: [need("read")],
    }),
    async (c) => c.json(await ctx.runs.list(c.req.valid("query").limit), 200),
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/runs/{id}",
      summary: "one run with its task DAG and each task's state",
      request: { params: RunId },
      responses: {
        200: json(RunView, "the run"),
        404: json(ErrorBody, "no such run"),
        ...errors,
      },
      middleware: [need("read")],
    }),
    async (c) => {
      return c.json(await viewOf(c.req.valid("param").id), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/runs/{id}/picture",
      summary: "a run's task graph laid out (dagre) and the timeline of its tasks and model calls",
      request: { params: RunId },
      responses: {
        200: json(RunPicture, "the picture's data; the page draws it"),
        404: json(ErrorBody, "no such run"),
        ...errors,
      },
      middleware: [need("read")],
    }),
    async (c) => {
      return c.json(await runPicture(ctx.ledger, await viewOf(c.req.valid("param").id)), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/runs/{id}/report",
      summary: "a run's report (as report.md and report.json) and proposed files, from the ledger",
      request: { params: RunId },
      responses: {
        200: json(RecordedReport, "the report, its markdown and the files"),
        404: json(ErrorBody, "no such run"),
        ...errors,
      },
      middleware: [need("read")],
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      await viewOf(id);
      const { report, markdown, files } = await recordedReport(ctx.ledger, id);
      return c.json({ report: { ...report }, markdown, files }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/runs/{a}/diff/{b}",
      summary: "two runs lined up task by task and file by file (as deno task diff --json)",
      request: {
        params: z.object({ a: RunId.shape.id, b: RunId.shape.id }),
      },
      responses: {
        200: json(z.record(z.string(), z.unknown()), "the comparison"),
        404: json(ErrorBody, "no such run"),
        ...errors,
      },
      middleware: [need("read")],
    }),
    async (c) => {
      const { a, b } = c.req.valid("param");
      return c.json(await diffRuns(ctx.ledger, a, b) as unknown as Record<string, unknown>, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/runs/{id}/events",
      summary: "a run's ledger events in order, a page at a time",
      request: {
        params: RunId,
        query: z.object({
          after: z.coerce.number().int().min(0).default(0),
          limit: z.coerce.number().int().min(1).max(5000).default(1000),
        }),
      },
      responses: {
        200: json(
          z.array(z.object({
            seq: z.number(),
            ts: z.number(),
            actor: z.string(),
            type: z.string(),
            payload: z.unknown(),
          })),
          "events after `after`, at most `limit`",
        ),
        ...errors,
      },
      middleware: [need("read")],
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const { after, limit } = c.req.valid("query");
      const out = [];
      for await (const row of ctx.ledger.rows({ fromSeq: after + 1, runId: id, pageSize: limit })) {
        out.push({
          seq: row.seq,
          ts: row.ts,
          actor: row.actor,
          type: row.type,
          payload: JSON.parse(row.payload),
        });
        if (out.length >= limit) break;
      }
      return c.json(out, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/runs/{id}/cancel",
      summary: "cancel a run between tasks; running tasks finish, the rest are skipped",
      request: { params: RunId },
      responses: {
        202: json(z.object({ cancelling: z.literal(true) }), "cancelling"),
        409: json(ErrorBody, "this server is not running it"),
        ...errors,
      },
      middleware: [need("operate")],
    }),
    (c) => {
      const { id } = c.req.valid("param");
      const caller = c.get("caller");
      if (!ctx.runs.cancel(id, `cancelled by ${caller.name} over HTTP`)) {
        throw new TroupeError("conflict", `run "${id}" is not running on this server`);
      }
      return c.json({ cancelling: true as const }, 202);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/runs/{id}/resume",
      summary: "resume an interrupted run; completed tasks are not done again",
      request: { params: RunId },
      responses: {
        202: json(z.object({ resuming: z.literal(true) }), "resuming"),
        404: json(ErrorBody, "no such run"),
        409: json(ErrorBody, "it is running or has finished"),
        ...errors,
      },
      middleware: [need("operate")],
    }),
    async (c) => {
      await ctx.runs.resume(c.req.valid("param").id);
      return c.json({ resuming: true as const }, 202);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/runs/{id}/fork",
      summary:
        "a new run that reuses this one's history up to a task (or event seq) and goes on with the changes asked, within the server's limits",
      request: { params: RunId, ...body(RemoteForkRequest) },
      responses: {
        202: json(z.object({ runId: z.string() }), "started; follow it at /runs/{id}"),
        404: json(ErrorBody, "no such run"),
        ...errors,
      },
      middleware: [need("operate")],
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const parent = await recoverRun(ctx.ledger, id);
      if (!parent) throw new TroupeError("not_found", `no run "${id}" in ${ctx.ledger.path}`);
      const fork = await confineFork(
        c.req.valid("json"),
        parent.settings.repo,
        c.get("caller"),
        ctx.confinement,
      );
      return c.json({ runId: await ctx.runs.fork(id, fork) }, 202);
    },
  );

  return app;
}
