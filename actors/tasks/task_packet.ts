import type { Effect } from "../../runtime/effects.ts";
import { z } from "zod";
import { RiskLevel } from "../../policies/mod.ts";

export const RetryPolicy = z.strictObject({
  maxAttempts: z.number().int().min(1).max(20).default(3),
  baseDelayMs: z.number().int().min(0).default(100),
  maxDelayMs: z.number().int().min(0).default(5_000),
});

/** One unit of work for one agent; the orchestrator's DAG is a list of these. */
export const TaskPacket = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9._:-]{0,127}$/, "lowercase id: letters, digits, . _ : -"),
  kind: z.string().min(1),
  /** The capability an agent must register to take the task. */
  capability: z.string().min(1),
  inputs: z.record(z.string(), z.unknown()).default({}),
  dependsOn: z.array(z.string()).default([]),
  /**
   * Dependencies this task waits for but can do without: one that fails or is skipped does not
   * skip this task, which then runs without its output (the review of an optional model step).
   */
  optional: z.array(z.string()).default([]),
  priority: z.enum(["high", "normal", "low"]).default("normal"),
  timeoutMs: z.number().int().positive().max(3_600_000).default(60_000),
  retry: RetryPolicy.default({ maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 5_000 }),
  /** A task with a key already completed in this run is not done again (resume). */
  idempotencyKey: z.string().min(1).optional(),
  risk: RiskLevel.default("low"),
});
/** A task as the orchestrator runs it, defaults filled in. */
export type TaskPacket = z.output<typeof TaskPacket>;
/** A task as a plan states it. */
export type TaskPacketInput = z.input<typeof TaskPacket>;

/**
 * What an agent is asked: the task and the outputs of the tasks it depends on; with `replay`,
 * the effects a recorded attempt had, which answer the agent's outside calls instead of making
 * them (`deno task replay --verify`).
 */
export interface TaskRequest {
  type: "task";
  task: TaskPacket;
  deps: Record<string, unknown>;
  replay?: Effect[];
  /** The run and the `task_started` event this message follows (for its trace span). */
  started?: { runId: string; seq: number };
}
