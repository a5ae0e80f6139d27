import { z } from "zod";
import { Priority } from "./priority_mailbox.ts";

/** Messages between the main thread and an actor's worker. One definition, both sides. */

const ErrorInfo = z.object({
  name: z.string(),
  message: z.string(),
  code: z.string().optional(),
  stack: z.string().optional(),
});

/**
 * Misbehaviour a chaos test injects into a worker, done in place of its next message as a faulty
 * behaviour would: spin (a synchronous endless loop), hang (await what never settles) or leak
 * (keep allocating heap, awaiting between allocations, until stopped).
 */
export const Fault = z.enum(["spin", "hang", "leak"]);
/** A misbehaviour a chaos test can inject into a worker: spin, hang or leak. */
export type Fault = z.infer<typeof Fault>;

export const ToWorker = z.discriminatedUnion("t", [
  z.object({
    t: z.literal("init"),
    id: z.string(),
    args: z.unknown(),
    heartbeatMs: z.number(),
    pulse: z.instanceof(SharedArrayBuffer),
  }),
  /** Messages handled in order, one at a time; one answer for the whole batch. */
  z.object({
    t: z.literal("batch"),
    n: z.number(),
    messages: z.array(z.unknown()),
    /** The indices of the messages whose reply is wanted; none when absent. */
    asks: z.array(z.number().int().min(0)).optional(),
    /** Each message's sender's trace context (`traceparent`) or null; absent when none has one. */
    traces: z.array(z.string().nullable()).optional(),
  }),
  z.object({
    t: z.literal("ask_result"),
    corr: z.number(),
    ok: z.boolean(),
    value: z.unknown(),
    error: ErrorInfo.optional(),
  }),
  z.object({ t: z.literal("terminate"), reason: z.enum(["normal", "shutdown"]) }),
  z.object({ t: z.literal("fault"), fault: Fault }),
]);
export type ToWorker = z.infer<typeof ToWorker>;

/** Worker output is validated on arrival: behaviour code can call postMessage itself. */
export const FromWorker = z.discriminatedUnion("t", [
  z.object({ t: z.literal("ready") }),
  z.object({ t: z.literal("init_failed"), error: ErrorInfo }),
  /**
   * A batch's outcomes, in order, for the messages handled: all of them, or those before the one
   * that asked to stop (included) or crashed (`crash.index`, not included).
   */
  z.object({
    t: z.literal("batch_done"),
    n: z.number(),
    /**
     * `0` stands for the usual outcome: handled, no reply wanted (or none given), no stop. A
     * number instead of a list: that many messages, each with the usual outcome.
     */
    outcomes: z.union([
      z.number().int().min(0),
      z.array(z.union([
        z.literal(0),
        z.object({ kind: z.literal("ok"), reply: z.unknown(), stop: z.boolean() }),
        z.object({ kind: z.literal("invalid"), reason: z.string() }),
      ])),
    ]),
    crash: z.object({ index: z.number().int().min(0), error: ErrorInfo }).optional(),
    /** Not handled at all: an earlier batch crashed or stopped the incarnation. */
    skipped: z.boolean().optional(),
  }),
  /** `trace`: the `traceparent` of the span the behaviour sent it from, when it is traced. */
  z.object({
    t: z.literal("tell"),
    to: z.string(),
    message: z.unknown(),
    priority: Priority,
    trace: z.string().optional(),
  }),
  z.object({
    t: z.literal("ask"),
    corr: z.number(),
    to: z.string(),
    message: z.unknown(),
    timeoutMs: z.number(),
    trace: z.string().optional(),
  }),
  z.object({
    t: z.literal("publish"),
    topic: z.string(),
    message: z.unknown(),
    trace: z.string().optional(),
  }),
  z.object({ t: z.literal("subscribe"), topic: z.string() }),
  z.object({
    t: z.literal("log"),
    level: z.enum(["debug", "info", "warn", "error"]),
    text: z.string(),
  }),
  z.object({ t: z.literal("terminated") }),
  z.object({ t: z.literal("persist"), corr: z.number(), event: z.unknown() }),
  z.object({ t: z.literal("snapshot"), corr: z.number(), state: z.unknown() }),
  z.object({ t: z.literal("recover"), corr: z.number() }),
]);
export type FromWorker = z.infer<typeof FromWorker>;
