import { z } from "zod";
import { ActorId, Permissions } from "./actor_spec.ts";

/**
 * What the agent factory makes agents from: behaviour, capabilities, permissions, limits and
 * the size of its pool. Agents of a template are named `NAME-1`, `NAME-2`, ...
 */
export const AgentTemplate = z.strictObject({
  name: ActorId,
  /** URL of the behaviour module (`defineActor` or `defineAgent` as default export). */
  behaviour: z.string().min(1),
  capabilities: z.array(z.string().min(1)).min(1, "a template needs at least one capability"),
  permissions: Permissions.default(Permissions.parse({})),
  /** A worker thread, or a process of its own: the one isolation that stops a spinning agent. */
  isolation: z.enum(["worker", "process"]).default("worker"),
  args: z.unknown().optional(),
  limits: z.strictObject({
    mailbox: z.number().int().positive().default(100),
    heartbeatMs: z.number().int().positive().default(250),
    unresponsiveAfterMs: z.number().int().positive().default(3000),
  }).default({ mailbox: 100, heartbeatMs: 250, unresponsiveAfterMs: 3000 }),
  pool: z.strictObject({
    /** Agents kept running even when idle (0: started on demand). */
    min: z.number().int().min(0).default(1),
    max: z.number().int().positive().default(1),
  }).default({ min: 1, max: 1 }).refine((p) => p.min <= p.max, {
    message: "pool.min must not exceed pool.max",
  }),
  /** Emit a `delivered` event per message; agents' tasks are in the ledger already. */
  observeMessages: z.union([z.boolean(), z.number().min(0).max(1)]).default(false),
});
export type AgentTemplate = z.output<typeof AgentTemplate>;
/** An agent template as written: name, behaviour, capabilities, permissions, limits and pool size. */
export type AgentTemplateInput = z.input<typeof AgentTemplate>;

/** How an agent factory sizes and watches its pools. */
export const FactoryOptions = z.strictObject({
  /** Agents of all pools together. */
  maxAgents: z.number().int().positive().default(10),
  /** An agent beyond its pool's minimum that has had no work this long is stopped. */
  idleMs: z.number().int().positive().default(5 * 60_000),
  /** How often idle agents are looked for and waiting leases retried. */
  tickMs: z.number().int().positive().default(100),
  /** Id of the supervisor the agents run under. */
  supervisor: ActorId.default("agents"),
  /** Put before every agent's id (`run1.scanner-1`), so that several factories share a system. */
  prefix: z.string().regex(/^[A-Za-z0-9._:-]{0,40}$/).default(""),
});
/** How an agent factory sizes and watches its pools. */
export type FactoryOptions = z.input<typeof FactoryOptions>;
