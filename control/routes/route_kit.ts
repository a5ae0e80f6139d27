import { OpenAPIHono } from "@hono/zod-openapi";
import { z } from "zod";
import { ErrorBody } from "../http_errors.ts";
import type { Env } from "../control_context.ts";

/** A JSON response of `schema`, for a route's description. */
export const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});
/** The refusals every route may answer with. */
export const errors = {
  400: json(ErrorBody, "the request is invalid; the error names the field"),
  401: json(ErrorBody, "no valid bearer token"),
  403: json(ErrorBody, "the token's role may not do this"),
};
/** A run's (or an approval's) id in a path. */
export const RunId = z.object({ id: z.string().min(1).max(100) });
/** A required JSON body of `schema`. */
export const body = <T extends z.ZodType>(schema: T) => ({
  body: { content: { "application/json": { schema } }, required: true },
});

/**
 * A group of routes: its own app, whose validation failures answer in the one error shape and
 * name each bad field; the server mounts it with `app.route`.
 */
export function routeGroup(): OpenAPIHono<Env> {
  return new OpenAPIHono<Env>({
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
}
