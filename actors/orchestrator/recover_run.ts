import type { Ledger } from "../../ledger/mod.ts";

export interface RecoveredRun {
  started: Record<string, unknown>;
  completed: Map<string, unknown>;
  finished: boolean;
}

/** Reads a run back from the ledger: how it was started and the outputs of completed tasks. */
export async function recoverRun(ledger: Ledger, runId: string): Promise<RecoveredRun | undefined> {
  let started: Record<string, unknown> | undefined;
  const completed = new Map<string, unknown>();
  let finished = false;
  for await (const row of ledger.rows({ runId })) {
    if (row.type === "run_started") started = JSON.parse(row.payload);
    else if (row.type === "task_succeeded") {
      const p = JSON.parse(row.payload) as { taskId: string; output: unknown };
      completed.set(p.taskId, p.output);
    } else if (row.type === "run_finished") finished = true;
  }
  return started ? { started, completed, finished } : undefined;
}
