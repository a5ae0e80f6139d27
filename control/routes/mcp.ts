import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Env } from "../control_context.ts";
import { type EndpointCall, troupeMcpServer } from "./mcp_server.ts";
import { need } from "../middleware/require_role.ts";
import { routeGroup } from "./route_kit.ts";

/**
 * `/mcp`: troupe as an MCP server over streamable HTTP, stateless (a server per request, as the
 * SDK shows for servers that keep no session). Each tool call is a request to this same endpoint
 * with the caller's own token, so its roles, limits and audit hold.
 */
export function mcpRoutes(fetch: (req: Request) => Promise<Response>): OpenAPIHono<Env> {
  const app = routeGroup();
  // Stateless: no stream outlives its POST (a standing GET stream would hold the server open).
  app.on(["GET", "DELETE"], "/mcp", (c) =>
    c.json(
      {
        error: { code: "method_not_allowed", message: "this MCP server keeps no session: POST" },
      },
      405,
      { allow: "POST" },
    ));
  app.post("/mcp", need("read"), async (c) => {
    const auth = c.req.header("authorization");
    const host = c.req.header("host");
    const origin = new URL(c.req.url).origin;
    const call: EndpointCall = (method, path, body) =>
      fetch(
        new Request(`${origin}${path}`, {
          method,
          headers: {
            ...(auth ? { authorization: auth } : {}),
            ...(host ? { host } : {}),
            ...(body === undefined ? {} : { "content-type": "application/json" }),
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        }),
      );
    const server = troupeMcpServer(call, MCP_VERSION);
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
    });
    await server.connect(transport);
    return await transport.handleRequest(c.req.raw);
  });
  return app;
}

/** The version troupe's MCP server gives in its handshake. */
export const MCP_VERSION = "0.1.0";
