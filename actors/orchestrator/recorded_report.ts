import type { PlannedTask } from "./run_diagram.ts";
import type { Ledger } from "../../ledger/mod.ts";
import { TroupeError } from "../../runtime/errors.ts";
import type { GeneratedFile } from "../tasks/repo_facts.ts";
import type { RunOutcome } from "./orchestrator.ts";
import { buildReport, markdown, type RunReport } from "./run_report.ts";
import { RunPlanned, RunStarted, TaskDead, TaskSkipped, TaskSucceeded } from "./run_events.ts";

/**
 * A run's report and proposed files as its ledger events tell them (no file on disk is read): for
 * readers of a run that did not write its outputs where they can see them (an MCP client, a
 * remote caller). Model spend is not part of it: the `llm_usage` view has it.
 */
export async function recordedReport(
  ledger: Ledger,
  runId: string,
): Promise<{ report: RunReport; markdown: string; files: GeneratedFile[] }> {
  const outcome: RunOutcome = { outputs: new Map(), dead: [], skipped: [] };
  let started: { goal: string; repo: string } | undefined;
  let plannedBy: { source: "offline" | "model"; model?: string } | undefined;
  let tasks: PlannedTask[] | undefined;
  const kinds = [RunStarted, RunPlanned, TaskSucceeded, TaskDead, TaskSkipped] as const;
  for await (const e of ledger.events(kinds, { runId })) {
    if (e.type === "run_started") started = e.payload;
    else if (e.type === "run_planned") {
      tasks = e.payload.tasks;
      plannedBy = {
        source: e.payload.source,
        ...(e.payload.model ? { model: e.payload.model } : {}),
      };
    } else if (e.type === "task_succeeded") outcome.outputs.set(e.payload.taskId, e.payload.output);
    else if (e.type === "task_dead") {
      const { taskId, attempts, cause } = e.payload;
      outcome.dead.push({ taskId, attempts, cause });
    } else outcome.skipped.push({ taskId: e.payload.taskId, reason: e.payload.reason });
  }
  if (!started) throw new TroupeError("not_found", `no run "${runId}" in ${ledger.path}`);
  const { report, files } = buildReport(
    runId,
    started.goal,
    started.repo,
    outcome,
    undefined,
    plannedBy?.source === "model" ? plannedBy : undefined,
    tasks,
  );
  return { report, markdown: markdown(report), files };
}
