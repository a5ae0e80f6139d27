import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { z } from "zod";
import { HTTPException } from "hono/http-exception";
import { streamSSE } from "hono/streaming";
import { eventType } from "../../ledger/mod.ts";
import { TroupeError } from "../../runtime/mod.ts";
import { FeedOverflow, followLedger } from "../event_feed.ts";
import { ErrorBody } from "../http_errors.ts";
import { allows } from "../tokens.ts";
import type { ControlContext } from "../control_context.ts";
import type { Env } from "../control_context.ts";
import { need } from "../middleware/require_role.ts";
import { errors, json, routeGroup } from "./route_kit.ts";

/** A live stream dropped because its client fell too far behind (it may reconnect). */
export const StreamDropped = eventType(
  "stream_dropped",
  z.object({ caller: z.string(), held: z.number(), bytes: z.number(), lastSent: z.number() }),
);

/** Live ledger events as Server-Sent Events, resumable, bounded per client. */
export function eventRoutes(ctx: ControlContext): OpenAPIHono<Env> {
  const app = routeGroup();
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

  return app;
}
