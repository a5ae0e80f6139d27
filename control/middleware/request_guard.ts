import type { MiddlewareHandler } from "hono";
import type { HostAllowList } from "../control_context.ts";

const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);

const refusal = (message: string) =>
  new Response(JSON.stringify({ error: { code: "forbidden", message } }), {
    status: 403,
    headers: { "content-type": "application/json" },
  });

/**
 * Refuses what a web page in the user's browser could send a loopback server: a request whose
 * Host is not one of the server's own names (DNS rebinding: attacker.example resolving to
 * 127.0.0.1), and a mutating request from another origin (a cross-site POST needs no token when
 * the browser holds none, but it always carries its Origin or Sec-Fetch-Site). Clients that are
 * not browsers send neither header and are judged by their token alone.
 */
export function requestGuard(allow: HostAllowList): MiddlewareHandler {
  return async (c, next) => {
    const host = (c.req.header("host") ?? "").toLowerCase();
    if (allow.hosts.size > 0 && !allow.hosts.has(host)) {
      return refusal(
        `this server answers to ${[...allow.hosts].join(", ")}, not to Host "${host}"`,
      );
    }
    if (!SAFE.has(c.req.method)) {
      const origin = c.req.header("origin");
      const site = c.req.header("sec-fetch-site");
      let from: string | undefined;
      try {
        from = origin && origin !== "null" ? new URL(origin).host.toLowerCase() : origin;
      } catch {
        from = origin;
      }
      if (
        (origin !== undefined && from !== host) ||
        (site && site !== "same-origin" && site !== "none")
      ) {
        return refusal(
          `a ${c.req.method} from another origin (${origin ?? site}) is refused: only this ` +
            "server's own page, or a client that is not a browser, may change anything",
        );
      }
    }
    await next();
  };
}

/** The page's Content-Security-Policy: its own files only, no frames, no inline script. */
export const CONTENT_SECURITY_POLICY = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'", "'unsafe-inline'"],
  imgSrc: ["'self'", "data:"],
  connectSrc: ["'self'"],
  objectSrc: ["'none'"],
  baseUri: ["'none'"],
  formAction: ["'none'"],
  frameAncestors: ["'none'"],
};
