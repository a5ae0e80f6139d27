import type { Ledger } from "../../ledger/mod.ts";
import { Lesson } from "../llm/lessons.ts";
import { LlmCall } from "../llm/llm_events.ts";
import type { RunOutcome } from "./orchestrator.ts";
import { TaskDead, TaskSkipped, TaskStarted, TaskSucceeded } from "./run_events.ts";
import type { PlannedBy } from "./run_request.ts";
import type { TaskSpend } from "./run_spend.ts";

/**
 * Records a `lesson` per task of a run, one for its planning, and one per model call that
 * failed (a 500, a 429, a timeout: the model failed that kind of task, whoever answered after
 * it): kind, agent, model, plan, outcome, error class, duration, tokens and cost. The router ranks
 * models by them next time, so a failing provider is not tried first again.
 */
export async function recordLessons(
  ledger: Ledger,
  run: { runId: string; goal: string },
  outcome: RunOutcome,
  plannedBy: PlannedBy,
  byTask: ReadonlyMap<string, TaskSpend>,
): Promise<void> {
  const { runId, goal } = run;
  const agents = new Map<string, string>();
  const durations = new Map<string, number>();
  const kinds = new Map<string, string>();
  const inherited = new Set<string>();
  for await (
    const e of ledger.events([TaskStarted, TaskSucceeded, TaskDead, TaskSkipped], { runId })
  ) {
    kinds.set(e.payload.taskId, e.payload.kind);
    if (e.type === "task_started") {
      agents.set(e.payload.taskId, e.actor.replace(/^[0-9a-f]{8}\./, "").replace(/-\d+$/, ""));
    }
    if (e.type === "task_succeeded") durations.set(e.payload.taskId, e.payload.durationMs);
    // A fork's reused tasks are its parent's evidence, already learned from.
    if (e.type === "task_succeeded" && e.payload.forkedFrom) inherited.add(e.payload.taskId);
  }
  const plan = plannedBy.source;
  const lessons: Lesson[] = [];
  const add = (taskId: string, kind: string, result: Lesson["outcome"], error: string | null) => {
    const spent = byTask.get(taskId);
    lessons.push({
      goal,
      taskId,
      kind,
      agent: agents.get(taskId) ?? null,
      model: spent?.model ?? null,
      plan,
      outcome: result,
      errorClass: error ? error.split(/[:(]/)[0].trim().slice(0, 80) : null,
      durationMs: durations.get(taskId) ?? null,
      tokens: spent?.tokens ?? 0,
      costUsd: spent?.costUsd ?? 0,
    });
  };
  add("plan", "plan", plan === "model" ? "succeeded" : "dead", plannedBy.fallback ?? null);
  for (const [id] of outcome.outputs) {
    if (!inherited.has(id)) add(id, kinds.get(id) ?? id, "succeeded", null);
  }
  for (const d of outcome.dead) add(d.taskId, kinds.get(d.taskId) ?? d.taskId, "dead", d.cause);
  for (const s of outcome.skipped) {
    add(s.taskId, kinds.get(s.taskId) ?? s.taskId, "skipped", s.reason);
  }
  for await (const e of ledger.events([LlmCall], { runId })) {
    const call = e.payload;
    if (call.outcome === "ok" || call.replayedFrom) continue;
    const taskId = call.taskId ?? "plan";
    lessons.push({
      goal,
      taskId,
      kind: kinds.get(taskId) ?? taskId,
      agent: call.role,
      model: call.model,
      plan,
      outcome: "dead",
      errorClass: call.outcome,
      durationMs: call.durationMs,
      tokens: 0,
      costUsd: 0,
    });
  }
  for (const l of lessons) {
    await ledger.record(Lesson, { runId, actor: "orchestrator", payload: l });
  }
}
