import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { streamSSE } from "hono/streaming";
import { secureHeaders } from "hono/secure-headers";
import { timeout } from "hono/timeout";
import { z } from "zod";
import { eventType, type Ledger, LedgerError } from "../ledger/mod.ts";
import {
  castVote,
  listApprovals,
  readRequest,
  readTrustList,
  SignedVote,
} from "../policies/mod.ts";
import { type ActorSystem, TroupeError } from "../runtime/mod.ts";
import type { Registry } from "prom-client";
import { teamTemplates } from "../actors/mod.ts";
import { type FeedBounds, FeedOverflow, followLedger } from "./event_feed.ts";
import type { PluginShelf } from "./plugin_shelf.ts";
import type { RunDesk } from "./run_desk.ts";
import { RunView } from "./run_view.ts";
import { type Ability, allows, type Caller, type TokenTable } from "./tokens.ts";
import { confineRun, RemoteRunRequest, type RunConfinement } from "./run_confinement.ts";
import { RefusalAudit } from "./refusal_audit.ts";
import { CONTENT_SECURITY_POLICY, type HostAllowList, requestGuard } from "./request_guard.ts";

/** What the routes work on. */
export interface ControlContext {
  ledger: Ledger;
  runs: RunDesk;
  /** The server's actor system: every run's team, and what people spawn. */
  system: ActorSystem;
  /** Served at /metrics in Prometheus text format. */
  metrics: Registry;
  /** Uploaded plugins, called over HTTP in sandboxes. */
  plugins: PluginShelf;
  /** Without tokens every caller is an anonymous admin: the server then binds to loopback only. */
  tokens?: TokenTable;
  keys: string;
  approvals: string;
  /** The Host names requests may carry (filled in once the server listens); empty: any. */
  allowList?: HostAllowList;
  /** What remote runs may touch and do: the server's configuration, never the request's. */
  confinement: RunConfinement;
  /** Largest request body, in bytes (default 1 MiB). */
  maxBodyBytes?: number;
  /** SQL queries one token may run at once (default 2): each holds a DuckDB connection. */
  maxQueriesPerToken?: number;
  /** What one live stream may hold for a client that does not read (see `FeedBounds`). */
  streamBounds?: Omit<FeedBounds, "onOverflow">;
  /** Live event streams one token may hold at once (default 8). */
  maxStreamsPerToken?: number;
  /** How long a request may take, event streams aside (default 70 s: an ask may wait 60 s). */
  requestTimeoutMs?: number;
  /** Aborts when the server closes: live streams end so that it can. */
  closing?: AbortSignal;
}

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

/** A live stream dropped because its client fell too far behind (it may reconnect). */
export const StreamDropped = eventType(
  "stream_dropped",
  z.object({ caller: z.string(), held: z.number(), bytes: z.number(), lastSent: z.number() }),
);

/** Every error leaves the server in one shape. */
export const ErrorBody = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  }),
});

type Env = { Variables: { caller: Caller } };

/** The most a SQL answer may hold, as JSON (8 MiB): a few huge rows cost as much as many. */
const MAX_SQL_BYTES = 8 * 2 ** 20;

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

const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});
const errors = {
  400: json(ErrorBody, "the request is invalid; the error names the field"),
  401: json(ErrorBody, "no valid bearer token"),
  403: json(ErrorBody, "the token's role may not do this"),
};
const RunId = z.object({ id: z.string().min(1).max(100) });
const body = <T extends z.ZodType>(schema: T) => ({
  body: { content: { "application/json": { schema } }, required: true },
});

/**
 * The control endpoint's routes, typed end to end by the zod schemas that validate them (the
 * same `RunRequest` the CLI fills), described by `/openapi.json`.
 */
export function controlApp(ctx: ControlContext): OpenAPIHono<Env> {
  const app = new OpenAPIHono<Env>({
    defaultHook: (result, c) => {
      if (!result.success) {
        return c.json(
          {
            error: {
              code: "invalid_request",
              message: `the request is invalid: ${
                result.error.issues.map((i) => `${i.path.join(".") || "(body)"}: ${i.message}`)
                  .join("; ")
              }`,
              issues: result.error.issues.map((i) => ({
                path: i.path.join("."),
                message: i.message,
              })),
            },
          },
          400,
        );
      }
    },
  });

  app.onError((err, c) => {
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
  });
  app.notFound((c) =>
    c.json({
      error: {
        code: "not_found",
        message: `no route ${c.req.method} ${c.req.path}; see /openapi.json`,
      },
    }, 404)
  );

  app.use(
    "*",
    secureHeaders({
      contentSecurityPolicy: CONTENT_SECURITY_POLICY,
      xFrameOptions: "DENY",
      referrerPolicy: "no-referrer",
    }),
  );
  app.use("*", requestGuard(ctx.allowList ?? { hosts: new Set() }));
  const audit = new RefusalAudit(ctx.ledger);
  // Health needs no token; everything else does once tokens are configured.
  app.use("*", authenticate(ctx, audit));
  app.use(
    "*",
    bodyLimit({
      maxSize: ctx.maxBodyBytes ?? 1024 * 1024,
      onError: (c) => {
        audit.refused(c.req.method, c.req.path, 413, "body too large");
        return c.json({
          error: {
            code: "too_large",
            message: `the body is larger than ${ctx.maxBodyBytes ?? 1024 * 1024} bytes`,
          },
        }, 413);
      },
    }),
  );
  app.use("*", recordMutations(ctx.ledger));
  const limit = ctx.requestTimeoutMs ?? 70_000;
  const timeLimit = timeout(
    limit,
    () => new HTTPException(408, { message: `the request took longer than ${limit} ms` }),
  );
  app.use("*", (c, next) => c.req.path === "/events" ? next() : timeLimit(c, next));

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
      const { id } = c.req.valid("param");
      const view = await ctx.runs.view(id);
      if (!view) throw new TroupeError("not_found", `no run "${id}" in ${ctx.ledger.path}`);
      return c.json(view, 200);
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

  const queries = new Map<string, number>();
  app.openapi(
    createRoute({
      method: "post",
      path: "/ledger/sql",
      summary: "one read-only SELECT over the ledger, on a connection of its own, with limits",
      request: body(z.strictObject({
        query: z.string().min(1).max(100_000),
        maxRows: z.number().int().min(1).max(10_000).default(1000),
        maxBytes: z.number().int().min(1).max(MAX_SQL_BYTES).default(MAX_SQL_BYTES)
          .describe("the rows' size as JSON; past it the result is cut (truncated: true)"),
        timeoutMs: z.number().int().min(1).max(10_000).default(10_000),
      })),
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

  const streams = new Map<string, number>();
  app.openapi(
    createRoute({
      method: "get",
      path: "/events",
      summary: "ledger events as Server-Sent Events, resumable with Last-Event-ID (the seq)",
      request: {
        query: z.object({
          run: z.string().optional(),
          actor: z.string().optional(),
          type: z.string().optional().describe("comma-separated event types"),
          mode: z.enum(["tasks", "tokens", "all"]).default("all"),
          after: z.coerce.number().int().min(0).optional().describe("start after this seq"),
          cancel_on_disconnect: z.enum(["true", "false"]).default("false").describe(
            "with run=ID: cancel that run when this stream closes (needs the operate role)",
          ),
        }),
      },
      responses: {
        200: { description: "text/event-stream: `id` is the seq, `event` the type" },
        ...errors,
        429: json(ErrorBody, "too many streams for this token"),
      },
      middleware: [need("read")],
    }),
    (c) => {
      const q = c.req.valid("query");
      const caller = c.get("caller").name;
      const open = streams.get(caller) ?? 0;
      const limit = ctx.maxStreamsPerToken ?? 8;
      if (open >= limit) {
        return c.json({
          error: { code: "too_many_streams", message: `at most ${limit} event streams per token` },
        }, 429);
      }
      const cancelOnDisconnect = q.cancel_on_disconnect === "true";
      if (cancelOnDisconnect) {
        if (!q.run) {
          throw new TroupeError("invalid_spec", "cancel_on_disconnect=true needs run=ID");
        }
        if (!allows(c.get("caller").role, "operate")) {
          throw new HTTPException(403, {
            message:
              `token "${caller}" may not cancel runs, so it may not ask for cancel_on_disconnect`,
          });
        }
      }
      const lastId = Number(c.req.header("last-event-id") ?? q.after ?? ctx.ledger.head.seq);
      const after = Number.isInteger(lastId) && lastId >= 0 ? lastId : ctx.ledger.head.seq;
      streams.set(caller, open + 1);
      return streamSSE(c, async (stream) => {
        const done = new AbortController();
        const stop = () => done.abort();
        stream.onAbort(stop);
        ctx.closing?.addEventListener("abort", stop, { once: true });
        try {
          await followLedger(
            ctx.ledger,
            after,
            {
              ...(q.run ? { runId: q.run } : {}),
              ...(q.actor ? { actor: q.actor } : {}),
              ...(q.type ? { types: q.type.split(",").map((t) => t.trim()) } : {}),
              mode: q.mode,
            },
            (row) =>
              stream.writeSSE({
                id: String(row.seq),
                event: row.type,
                data: JSON.stringify({
                  seq: row.seq,
                  ts: row.ts,
                  runId: row.runId,
                  actor: row.actor,
                  type: row.type,
                  payload: JSON.parse(row.payload),
                }),
              }),
            done.signal,
            {
              ...ctx.streamBounds,
              // Dropped, and said so in the ledger: a client that does not read is not held.
              onOverflow: (o) => {
                void ctx.ledger.record(StreamDropped, {
                  actor: "control",
                  payload: { caller, held: o.held, bytes: o.bytes, lastSent: o.lastSent },
                }).catch(() => {});
                stream.abort();
              },
            },
          );
        } catch (err) {
          if (!(err instanceof FeedOverflow)) throw err;
        } finally {
          ctx.closing?.removeEventListener("abort", stop); // a long-lived server opens many
          streams.set(caller, (streams.get(caller) ?? 1) - 1);
          // A run outlives the client that follows it, unless that client asked otherwise.
          if (cancelOnDisconnect && !ctx.closing?.aborted) {
            ctx.runs.cancel(q.run!, `the client following it (${caller}) disconnected`);
          }
        }
      });
    },
  );

  const restarts = new Map<string, number>();
  ctx.system.events.subscribe((e) => {
    if (e.type === "restarted") restarts.set(e.actor, (restarts.get(e.actor) ?? 0) + 1);
  });
  const ActorView = z.object({
    id: z.string(),
    capabilities: z.array(z.string()),
    status: z.string(),
    supervisor: z.string().nullable(),
    mailbox: z.number(),
    processed: z.number(),
    busyMs: z.number(),
    restarts: z.number(),
  });
  app.openapi(
    createRoute({
      method: "get",
      path: "/actors",
      summary: "actors with capabilities, state, mailbox depth, load and restarts",
      responses: { 200: json(z.array(ActorView), "actors"), ...errors },
      middleware: [need("read")],
    }),
    (c) =>
      c.json(
        ctx.system.registry.list().map((e) => ({
          id: e.id,
          capabilities: [...e.capabilities],
          status: e.status,
          supervisor: ctx.system.registry.cell(e.id)?.parent ?? null,
          mailbox: e.load.mailbox,
          processed: e.load.processed,
          busyMs: Math.round(e.load.busyMs),
          restarts: restarts.get(e.id) ?? 0,
        })),
        200,
      ),
  );

  type TreeNode = { id: string; kind: "supervisor" | "actor"; children?: TreeNode[] };
  // Described one level deep: the OpenAPI generator does not follow a recursive zod schema.
  const TreeNode = z.object({
    id: z.string(),
    kind: z.enum(["supervisor", "actor"]),
    children: z.array(z.record(z.string(), z.unknown())).optional()
      .describe("nodes of the same shape"),
  });
  app.openapi(
    createRoute({
      method: "get",
      path: "/actors/tree",
      summary: "the supervision tree",
      responses: { 200: json(TreeNode, "the root supervisor and everything under it"), ...errors },
      middleware: [need("read")],
    }),
    (c) => {
      const walk = (child: { id: string; children?: readonly unknown[] }): TreeNode =>
        child.children
          ? {
            id: child.id,
            kind: "supervisor",
            children: child.children.map((x) => walk(x as { id: string })),
          }
          : { id: child.id, kind: "actor" };
      return c.json(walk(ctx.system.root) as z.infer<typeof TreeNode>, 200);
    },
  );

  const ActorId = z.object({ id: z.string().min(1).max(128) });
  app.openapi(
    createRoute({
      method: "post",
      path: "/actors",
      summary: "spawn an agent from one of the team's templates, for a repository",
      request: body(z.strictObject({
        template: z.string().min(1),
        id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/),
        repo: z.string().min(1).default("."),
      })),
      responses: {
        201: json(z.object({ id: z.string() }), "spawned under the root supervisor"),
        ...errors,
        404: json(ErrorBody, "no such template"),
        409: json(ErrorBody, "the id is taken"),
      },
      middleware: [need("admin")],
    }),
    async (c) => {
      const { template, id, repo: asked } = c.req.valid("json");
      const { repo } = await confineRun(
        { repo: asked, autonomy: 1 },
        c.get("caller"),
        ctx.confinement,
      );
      const t = teamTemplates(repo).find((x) => x.name === template);
      if (!t) {
        throw new TroupeError(
          "not_found",
          `no template "${template}"; templates: ${
            teamTemplates(repo).map((x) => x.name).join(", ")
          }`,
        );
      }
      if (ctx.system.registry.has(id)) {
        throw new TroupeError("conflict", `an actor "${id}" exists already`);
      }
      await ctx.system.spawn({
        id,
        behaviour: t.behaviour,
        capabilities: t.capabilities,
        permissions: t.permissions,
        ...(t.isolation ? { isolation: t.isolation } : {}),
      });
      return c.json({ id }, 201);
    },
  );

  app.openapi(
    createRoute({
      method: "delete",
      path: "/actors/{id}",
      summary: "stop an actor and take it off its supervisor",
      request: { params: ActorId },
      responses: {
        200: json(z.object({ stopped: z.literal(true) }), "stopped"),
        404: json(ErrorBody, "no such actor"),
        ...errors,
      },
      middleware: [need("operate")],
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      if (!(await ctx.system.remove(id))) throw new TroupeError("not_found", `no actor "${id}"`);
      return c.json({ stopped: true as const }, 200);
    },
  );

  const Send = z.strictObject({
    message: z.unknown(),
    priority: z.enum(["critical", "high", "normal", "low"]).default("normal"),
  });
  app.openapi(
    createRoute({
      method: "post",
      path: "/actors/{id}/tell",
      summary: "send a message; refused messages are dead letters",
      request: { params: ActorId, ...body(Send) },
      responses: {
        202: json(z.object({ delivered: z.boolean() }), "queued, or refused (see dead letters)"),
        ...errors,
      },
      middleware: [need("operate")],
    }),
    (c) => {
      const { message, priority } = c.req.valid("json");
      const delivered = ctx.system.ref(c.req.valid("param").id).tell(message, { priority });
      return c.json({ delivered }, 202);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/actors/{id}/ask",
      summary: "send a request and wait for the reply, within timeoutMs",
      request: {
        params: ActorId,
        ...body(Send.extend({ timeoutMs: z.number().int().min(1).max(60_000).default(5000) })),
      },
      responses: {
        200: json(z.object({ reply: z.unknown() }), "the reply"),
        ...errors,
        404: json(ErrorBody, "no such actor"),
        408: json(ErrorBody, "no reply in time"),
        422: json(ErrorBody, "the actor refused the message or crashed on it"),
      },
      middleware: [need("operate")],
    }),
    async (c) => {
      const { message, priority, timeoutMs } = c.req.valid("json");
      const reply = await ctx.system.ref(c.req.valid("param").id).ask(message, {
        priority,
        timeoutMs,
      });
      return c.json({ reply: reply ?? null }, 200);
    },
  );

  const PluginView = z.object({
    name: z.string(),
    version: z.string(),
    sha256: z.string(),
    exports: z.array(z.string()),
    hostFunctions: z.array(z.string()),
    limits: z.record(z.string(), z.unknown()),
  });
  app.openapi(
    createRoute({
      method: "get",
      path: "/plugins",
      summary: "the plugins this server keeps",
      responses: { 200: json(z.array(PluginView), "plugins"), ...errors },
      middleware: [need("read")],
    }),
    async (c) => c.json(await ctx.plugins.list(), 200),
  );
  app.openapi(
    createRoute({
      method: "post",
      path: "/plugins",
      summary: "upload a plugin: its manifest is validated, its wasm hashed and checked, stored",
      request: body(z.strictObject({
        manifest: z.record(z.string(), z.unknown()),
        wasm: z.string().min(8).regex(/^[A-Za-z0-9+/=\s]+$/, "base64").describe("base64"),
      })),
      responses: {
        201: json(PluginView, "stored"),
        ...errors,
        422: json(ErrorBody, "invalid manifest or wasm, hash mismatch, or imports not provided"),
      },
      middleware: [need("admin")],
    }),
    async (c) => {
      const { manifest, wasm } = c.req.valid("json");
      return c.json(await ctx.plugins.store(manifest, wasm), 201);
    },
  );
  app.openapi(
    createRoute({
      method: "post",
      path: "/plugins/{name}/call",
      summary: "call a plugin's function once, in a sandbox with its limits (or tighter)",
      request: {
        params: z.object({ name: z.string().min(1).max(64) }),
        ...body(z.strictObject({
          function: z.string().min(1).max(128),
          input: z.unknown().optional(),
          timeoutMs: z.number().int().min(1).max(600_000).optional(),
        })),
      },
      responses: {
        200: json(z.object({ output: z.string(), bytes: z.number(), ms: z.number() }), "output"),
        ...errors,
        422: json(ErrorBody, "the plugin failed: trap, timeout, memory, non-zero return, …"),
      },
      middleware: [need("operate")],
    }),
    async (c) => {
      const { function: fn, input, timeoutMs } = c.req.valid("json");
      const r = await ctx.plugins.call(c.req.valid("param").name, fn, input ?? "", timeoutMs);
      return c.json({ output: r.text, bytes: r.bytes, ms: r.ms }, 200);
    },
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

  app.doc31("/openapi.json", {
    openapi: "3.1.0",
    info: {
      title: "troupe control endpoint",
      version: "1",
      description: "Drive troupe's runs, follow its ledger and sign approvals over HTTP.",
    },
  });
  app.get("/docs", (c) => c.html(docsPage(app)));
  app.get("/", (c) => c.redirect("/page/index.html"));
  app.get("/page/:file", async (c) => {
    const name = c.req.param("file");
    const file = Object.hasOwn(PAGE_FILES, name) ? PAGE_FILES[name] : undefined;
    if (!file) throw new HTTPException(404, { message: `no page file ${c.req.param("file")}` });
    const text = await Deno.readTextFile(new URL(`./page/${name}`, import.meta.url));
    return c.body(text, 200, { "content-type": file, "cache-control": "no-cache" });
  });
  return app;
}

/** The control center's files (no build step): name → content type. */
const PAGE_FILES: Record<string, string> = {
  "index.html": "text/html; charset=utf-8",
  "app.js": "text/javascript; charset=utf-8",
  "style.css": "text/css; charset=utf-8",
};

/** Sets the caller from the bearer token; refuses a missing or unknown one (but on /health). */
function authenticate(ctx: ControlContext, audit: RefusalAudit): MiddlewareHandler<Env> {
  return async (c, next) => {
    // The page's own files carry no data; what it shows is fetched with the token.
    if (c.req.path === "/health" || c.req.path === "/" || c.req.path.startsWith("/page/")) {
      return await next();
    }
    if (!ctx.tokens) {
      c.set("caller", { name: "local", role: "admin" });
      return await next();
    }
    const caller = ctx.tokens.authenticate(c.req.header("authorization"));
    if (!caller) {
      const given = c.req.header("authorization");
      audit.refused(c.req.method, c.req.path, 401, given ? "unknown token" : "no token");
      return c.json(
        {
          error: {
            code: "unauthorized",
            message: "send Authorization: Bearer TOKEN with a token from the server's tokens file",
          },
        },
        401,
        { "www-authenticate": "Bearer" },
      );
    }
    c.set("caller", caller);
    await next();
  };
}

/** Refuses a caller whose role may not do `ability`. */
function need(ability: Ability): MiddlewareHandler<Env> {
  return async (c, next) => {
    const caller = c.get("caller");
    if (!allows(caller.role, ability)) {
      return c.json({
        error: {
          code: "forbidden",
          message: `token "${caller.name}" has role ${caller.role}, which may not ${ability}`,
        },
      }, 403);
    }
    await next();
  };
}

/** Every mutating call is a ledger event naming the caller's token and role. */
function recordMutations(ledger: Ledger): MiddlewareHandler<Env> {
  return async (c: Context<Env>, next) => {
    await next();
    if (c.req.method === "GET" || c.req.method === "HEAD" || c.req.method === "OPTIONS") return;
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

/** A plain page listing the routes; the full description is /openapi.json. */
function docsPage(app: OpenAPIHono<Env>): string {
  const doc = app.getOpenAPI31Document({
    openapi: "3.1.0",
    info: { title: "troupe control endpoint", version: "1" },
  });
  const rows = Object.entries(doc.paths ?? {}).flatMap(([path, ops]) =>
    Object.entries(ops as Record<string, { summary?: string }>).map(([method, op]) =>
      `<tr><td><code>${method.toUpperCase()}</code></td><td><code>${escape(path)}</code></td>` +
      `<td>${escape(op.summary ?? "")}</td></tr>`
    )
  ).join("\n");
  return `<!doctype html><meta charset="utf-8"><title>troupe API</title>
<style>body{font:14px system-ui;margin:2em}td{padding:.2em 1em;border-bottom:1px solid #ddd}</style>
<h1>troupe control endpoint</h1><p>Machine-readable: <a href="/openapi.json">/openapi.json</a>.
Send <code>Authorization: Bearer TOKEN</code>.</p><table>${rows}</table>`;
}

const escape = (s: string) =>
  s.replace(/[&<>"]/g, (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[ch]!);
