import { OpenAPIHono } from "@hono/zod-openapi";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { secureHeaders } from "hono/secure-headers";
import { timeout } from "hono/timeout";
import type { ControlContext } from "./control_context.ts";
import { errorResponse, notFound } from "./http_errors.ts";
import { authenticate } from "./middleware/authenticate.ts";
import { recordMutations } from "./middleware/record_mutations.ts";
import { RefusalAudit } from "./middleware/refusal_audit.ts";
import { CONTENT_SECURITY_POLICY, requestGuard } from "./middleware/request_guard.ts";
import { actorRoutes } from "./routes/actors.ts";
import { approvalRoutes } from "./routes/approvals.ts";
import { eventRoutes } from "./routes/events.ts";
import { ledgerSqlRoutes } from "./routes/ledger_sql.ts";
import { operationRoutes } from "./routes/operations.ts";
import { pluginRoutes } from "./routes/plugins.ts";
import type { Env } from "./control_context.ts";
import { runRoutes } from "./routes/runs.ts";
import { mcpRoutes } from "./routes/mcp.ts";

/**
 * The control endpoint: its middleware (security headers, the Host and Origin guard, tokens,
 * body and time limits, the audit of every mutation) and its route groups, each typed end to
 * end by the zod schemas that validate it and described by `/openapi.json`.
 */
export function controlApp(ctx: ControlContext): OpenAPIHono<Env> {
  const app = new OpenAPIHono<Env>();
  app.onError(errorResponse);
  app.notFound(notFound);

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
  // Live streams, and MCP's follow_run, last as long as what they follow.
  app.use("*", (c, next) => ["/events", "/mcp"].includes(c.req.path) ? next() : timeLimit(c, next));
  for (
    const group of [
      operationRoutes,
      runRoutes,
      ledgerSqlRoutes,
      approvalRoutes,
      eventRoutes,
      actorRoutes,
      pluginRoutes,
    ]
  ) app.route("/", group(ctx));
  // MCP's tools are calls of the routes above, made in-process with the caller's token.
  app.route("/", mcpRoutes((req) => Promise.resolve(app.fetch(req))));

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
  "charts.js": "text/javascript; charset=utf-8",
  "style.css": "text/css; charset=utf-8",
};

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
