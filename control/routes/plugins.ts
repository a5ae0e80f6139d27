import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { z } from "zod";
import { ErrorBody } from "../http_errors.ts";
import type { ControlContext } from "../control_context.ts";
import type { Env } from "../control_context.ts";
import { need } from "../middleware/require_role.ts";
import { body, errors, json, routeGroup } from "./route_kit.ts";

/** One call of a plugin's function, as `POST /plugins/{name}/call` takes it. */
export const PluginCall = z.strictObject({
  function: z.string().min(1).max(128),
  input: z.unknown().optional(),
  timeoutMs: z.number().int().min(1).max(600_000).optional(),
});

/** Plugins: list, upload (checked, stored), call in a sandbox. */
export function pluginRoutes(ctx: ControlContext): OpenAPIHono<Env> {
  const app = routeGroup();
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
        ...body(PluginCall),
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

  return app;
}
