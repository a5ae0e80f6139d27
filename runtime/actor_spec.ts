import { z } from "zod";
import { OverflowPolicy } from "./priority_mailbox.ts";
import type { ActorDefinition } from "./define_actor.ts";

const Grant = z.union([z.boolean(), z.array(z.string().min(1))]);

/** Deno permissions of a worker actor. Everything is denied unless listed. */
export const Permissions = z.strictObject({
  read: Grant.default(false),
  write: Grant.default(false),
  net: Grant.default(false),
  env: Grant.default(false),
  run: Grant.default(false),
  sys: Grant.default(false),
  ffi: Grant.default(false),
});
/** The Deno permissions of an actor's worker: each `false` (the default), `true` or a list. */
export type Permissions = z.infer<typeof Permissions>;

export const ActorId = z.string().regex(
  /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/,
  "an actor id is 1-128 letters, digits, '.', '_', ':' or '-', starting with a letter or digit",
);

const Behaviour = z.union([
  z.string().min(1),
  z.custom<ActorDefinition<unknown, unknown>>(
    (v) =>
      typeof v === "object" && v !== null &&
      typeof (v as { receive?: unknown }).receive === "function",
    "expected a behaviour module URL or an object from defineActor({ receive })",
  ),
]);

export const ActorSpec = z.strictObject({
  id: ActorId,
  /** URL of a module whose default export is `defineActor(...)`; an object works inline only. */
  behaviour: Behaviour,
  /**
   * Where the behaviour runs: a worker thread (the default), a process of its own (`"process"`:
   * the only isolation that stops a behaviour stuck in a synchronous loop, and whose heap limit
   * V8 enforces; ~0.5 s to start and ~40 MiB more), or the system's own thread (`"inline"`).
   */
  isolation: z.enum(["worker", "process", "inline"]).default("worker"),
  args: z.unknown().optional(),
  permissions: Permissions.default(Permissions.parse({})),
  mailbox: z.strictObject({
    capacity: z.number().int().positive().default(1000),
    overflow: OverflowPolicy.default("reject"),
  }).default({ capacity: 1000, overflow: "reject" }),
  capabilities: z.array(z.string().min(1)).default([]),
  subscriptions: z.array(z.string().min(1)).default([]),
  /**
   * How often a worker beats (in shared memory) while it has work, and how long silence then
   * means it is stuck. An idle worker neither beats nor is watched.
   */
  heartbeatMs: z.number().int().positive().default(250),
  unresponsiveAfterMs: z.number().int().positive().default(3000),
  /**
   * A worker whose heap grows past this is terminated (code `over_memory`) and restarted by its
   * supervisor: V8 stops the whole process when one isolate reaches its own limit (about 4 GiB,
   * less on small machines), and Deno's Worker takes no per-worker limit. The worker reports its
   * heap from its beat, so a leak is caught within a beat or two of passing the limit.
   */
  maxHeapMb: z.number().int().positive().default(1024),
  /**
   * Inline actors: copy each message and reply with structuredClone, as a worker boundary does
   * (a debugging switch for behaviours suspected of mutating what they share; off, messages are
   * immutable by contract and passed as they are).
   */
  copyMessages: z.boolean().default(false),
  /** Emit a `delivered` event for every message (true), none (false), or a sampled fraction. */
  observeMessages: z.union([z.boolean(), z.number().min(0).max(1)]).default(true),
}).refine(
  (s) => s.isolation === "inline" || typeof s.behaviour === "string",
  {
    message: "a worker or process actor needs a behaviour module URL (string), not an object",
    path: ["behaviour"],
  },
);
/** An actor as `system.spawn` takes it: id, behaviour, isolation, permissions, mailbox, capabilities, … */
export type ActorSpecInput = z.input<typeof ActorSpec>;
export type ActorSpec = z.output<typeof ActorSpec>;

/** Deno's worker permission options for a spec. */
export function denoPermissions(p: Permissions): Deno.PermissionOptionsObject {
  return {
    read: p.read,
    write: p.write,
    net: p.net,
    env: p.env,
    run: p.run,
    sys: p.sys as boolean,
    ffi: p.ffi,
    import: false,
  };
}
