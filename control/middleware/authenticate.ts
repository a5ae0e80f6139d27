import type { MiddlewareHandler } from "hono";
import type { ControlContext } from "../control_context.ts";
import type { Env } from "../control_context.ts";
import type { RefusalAudit } from "./refusal_audit.ts";

/** Sets the caller from the bearer token; refuses a missing or unknown one (but on /health). */
export function authenticate(ctx: ControlContext, audit: RefusalAudit): MiddlewareHandler<Env> {
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
