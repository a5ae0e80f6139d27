import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { z } from "zod";
import { teamTemplates } from "../../actors/mod.ts";
import { TroupeError } from "../../runtime/mod.ts";
import { ErrorBody } from "../http_errors.ts";
import { confineRun } from "../run_confinement.ts";
import type { ControlContext } from "../control_context.ts";
import type { Env } from "../control_context.ts";
import { need } from "../middleware/require_role.ts";
import { body, errors, json, routeGroup } from "./route_kit.ts";

/**
 * Actors: list with load, the cluster's nodes, the supervision tree, spawn from a template,
 * stop, tell, ask.
 */
export function actorRoutes(ctx: ControlContext): OpenAPIHono<Env> {
  const app = routeGroup();
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

  const NodeView = z.object({
    node: z.string(),
    here: z.boolean(),
    actors: z.array(z.object({
      id: z.string(),
      capabilities: z.array(z.string()),
      mailbox: z.number(),
      busyMs: z.number(),
    })),
    teams: z.array(z.string()),
    /** How long ago its last heartbeat came (0 for this server's own node). */
    seenAgoMs: z.number(),
  });
  app.openapi(
    createRoute({
      method: "get",
      path: "/nodes",
      summary: "the cluster's live nodes (this server alone without --cluster): actors and load",
      responses: { 200: json(z.array(NodeView), "nodes"), ...errors },
      middleware: [need("read")],
    }),
    (c) => {
      const cluster = ctx.cluster;
      const now = Date.now();
      const nodes = cluster ? cluster.nodes() : [{
        node: "this server",
        actors: ctx.system.registry.list().filter((e) => e.status === "running").map((e) => ({
          id: e.id,
          capabilities: [...e.capabilities],
          mailbox: e.load.mailbox,
          busyMs: Math.round(e.load.busyMs),
        })),
        seenAt: now,
        downAfterMs: 0,
      }];
      return c.json(
        nodes.map((n, i) => ({
          node: n.node,
          here: i === 0,
          actors: n.actors,
          teams: "teams" in n ? n.teams ?? [] : [],
          seenAgoMs: i === 0 ? 0 : Math.max(0, now - n.seenAt),
        })),
        200,
      );
    },
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
  return app;
}
