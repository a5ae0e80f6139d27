import type { MiddlewareHandler } from "hono";
import type { Env } from "../control_context.ts";
import { type Ability, allows } from "../tokens.ts";

/** Refuses a caller whose role may not do `ability`. */
export function need(ability: Ability): MiddlewareHandler<Env> {
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
