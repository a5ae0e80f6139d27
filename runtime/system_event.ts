import { z } from "zod";
import { Priority } from "./priority_mailbox.ts";

const ErrorInfoSchema = z.object({
  name: z.string(),
  message: z.string(),
  code: z.string().optional(),
  stack: z.string().optional(),
});

const base = { seq: z.number().int(), ts: z.number() };

/** Everything observable that happens in an actor system; the ledger persists these. */
export const SystemEvent = z.discriminatedUnion("type", [
  z.object({
    ...base,
    type: z.literal("spawned"),
    actor: z.string(),
    isolation: z.enum(["worker", "process", "inline"]),
    parent: z.string().optional(),
    incarnation: z.number().int(),
  }),
  z.object({
    ...base,
    type: z.literal("stopped"),
    actor: z.string(),
    reason: z.enum(["normal", "shutdown"]),
  }),
  z.object({
    ...base,
    type: z.literal("crashed"),
    actor: z.string(),
    error: ErrorInfoSchema,
    messageType: z.string().optional(),
  }),
  z.object({
    ...base,
    type: z.literal("restarted"),
    actor: z.string(),
    supervisor: z.string(),
    restarts: z.number().int(),
    delayMs: z.number(),
  }),
  z.object({
    ...base,
    type: z.literal("escalated"),
    actor: z.string(),
    reason: z.string(),
  }),
  z.object({
    ...base,
    type: z.literal("delivered"),
    actor: z.string(),
    messageType: z.string(),
    priority: Priority,
    from: z.string().optional(),
  }),
  z.object({
    ...base,
    type: z.literal("dead_letter"),
    actor: z.string(),
    messageType: z.string(),
    reason: z.string(),
    message: z.unknown(),
    from: z.string().optional(),
  }),
  z.object({
    ...base,
    type: z.literal("ask_timeout"),
    actor: z.string(),
    messageType: z.string(),
    timeoutMs: z.number(),
  }),
  z.object({
    ...base,
    type: z.literal("unresponsive"),
    actor: z.string(),
    silentMs: z.number(),
  }),
  z.object({
    ...base,
    type: z.literal("unhealthy"),
    actor: z.string(),
    /** stuck: an ask timed out and it finished nothing since; backlog: a nearly full mailbox
     * that does not drain; errors: most of its recent work failed. */
    signal: z.enum(["stuck", "backlog", "errors"]),
    reason: z.string(),
  }),
  z.object({
    ...base,
    type: z.literal("scaled"),
    actor: z.string(),
    pool: z.string(),
    direction: z.enum(["up", "down"]),
    /** The pool's size after the change. */
    size: z.number().int(),
    reason: z.string(),
  }),
  z.object({
    ...base,
    type: z.literal("registered"),
    actor: z.string(),
    capabilities: z.array(z.string()),
  }),
  z.object({
    ...base,
    type: z.literal("unregistered"),
    actor: z.string(),
  }),
  /** A node of the cluster (`actor`: its id) was seen (`up`), or missed heartbeats or left. */
  z.object({
    ...base,
    type: z.literal("node"),
    actor: z.string(),
    state: z.enum(["up", "down"]),
    /** The node's actors (those it had, when it went down). */
    actors: z.array(z.string()),
    reason: z.string(),
  }),
  z.object({
    ...base,
    type: z.literal("log"),
    actor: z.string(),
    level: z.enum(["debug", "info", "warn", "error"]),
    text: z.string(),
  }),
]);
/** One lifecycle or delivery event of an actor system. */
export type SystemEvent = z.infer<typeof SystemEvent>;
/** The kinds of system events. */
export type SystemEventType = SystemEvent["type"];

/** An event as emitted, before the stream stamps it with `seq` and `ts`. */
export type EventInput = SystemEvent extends infer E
  ? E extends SystemEvent ? Omit<E, "seq" | "ts"> : never
  : never;
