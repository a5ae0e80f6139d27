import type { Ledger } from "../../ledger/mod.ts";
import { RunFinished, type RunSettings, RunStarted, TaskSucceeded } from "./run_events.ts";

/** A run as its ledger events tell it. */
export interface RecoveredRun {
  settings: RunSettings;
  completed: Map<string, unknown>;
  finished: boolean;
}

/**
 * Reads a run back from the ledger: how it was started and the outputs of completed tasks (of
 * those completed before event `beforeSeq`, when given).
 */
export async function recoverRun(
  ledger: Ledger,
  runId: string,
  beforeSeq = Infinity,
): Promise<RecoveredRun | undefined> {
  let settings: RunSettings | undefined;
  const completed = new Map<string, unknown>();
  let finished = false;
  for await (const e of ledger.events([RunStarted, TaskSucceeded, RunFinished], { runId })) {
    if (e.seq >= beforeSeq) break;
    if (e.type === "run_started") settings = e.payload;
    else if (e.type === "task_succeeded") completed.set(e.payload.taskId, e.payload.output);
    else finished = true;
  }
  return settings ? { settings, completed, finished } : undefined;
}
