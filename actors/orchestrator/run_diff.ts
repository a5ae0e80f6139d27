import { createTwoFilesPatch } from "diff";
import type { Ledger } from "../../ledger/mod.ts";
import { TroupeError } from "../../runtime/errors.ts";
import { recoverRun } from "./recover_run.ts";
import { generatedFiles } from "./run_files.ts";

/** One task of one run, as the `run_tasks` view has it. */
export interface TaskLine {
  kind: string;
  outcome: string;
  attempts: number;
  durationMs: number | null;
  tokens: number;
  costUsd: number;
  outputHash: string | null;
  /** Reused from this parent run by a fork, not done again. */
  forkedFrom: string | null;
}

/** How one thing differs between two runs. */
export type Change = "added" | "removed" | "changed" | "same";

/** Two runs lined up task by task and file by file. */
export interface RunDiff {
  a: string;
  b: string;
  tasks: { taskId: string; change: Change; differs: string[]; a?: TaskLine; b?: TaskLine }[];
  /** The files each run proposes; a changed file comes with the diff from a's to b's. */
  files: { path: string; change: Change; patch?: string }[];
  totals: Record<"a" | "b", { tasks: number; tokens: number; costUsd: number; dead: number }>;
}

async function taskLines(ledger: Ledger, runId: string): Promise<Map<string, TaskLine>> {
  const rows = (await ledger.query(
    `SELECT task_id, kind, outcome, attempts, duration_ms, tokens, cost_usd, output_hash,
            forked_from FROM run_tasks WHERE run_id = '${runId.replaceAll("'", "''")}'
      ORDER BY task_id`,
  )).rows;
  return new Map(rows.map((r) => [String(r.task_id), {
    kind: String(r.kind),
    outcome: String(r.outcome),
    attempts: Number(r.attempts),
    durationMs: r.duration_ms === null ? null : Number(r.duration_ms),
    tokens: Number(r.tokens),
    costUsd: Number(r.cost_usd),
    outputHash: r.output_hash === null ? null : String(r.output_hash),
    forkedFrom: r.forked_from === null ? null : String(r.forked_from),
  }]));
}

/**
 * Lines two runs up: tasks added, removed or changed (outcome, attempts, output; durations,
 * tokens and cost are shown, not counted as a change), and the files each proposes, with the diff
 * between the two proposals of a file.
 */
export async function diffRuns(ledger: Ledger, a: string, b: string): Promise<RunDiff> {
  const runs = await Promise.all([a, b].map((id) => recoverRun(ledger, id)));
  runs.forEach((r, i) => {
    if (!r) {
      const id = [a, b][i];
      throw new TroupeError("not_found", `no run "${id}" in ${ledger.path}`, { runId: id });
    }
  });
  const [ta, tb] = [await taskLines(ledger, a), await taskLines(ledger, b)];
  const ids = [...new Set([...ta.keys(), ...tb.keys()])].sort();
  const tasks = ids.map((taskId) => {
    const [x, y] = [ta.get(taskId), tb.get(taskId)];
    if (!x || !y) {
      return {
        taskId,
        change: (x ? "removed" : "added") as Change,
        differs: [],
        ...(x ? { a: x } : {}),
        ...(y ? { b: y } : {}),
      };
    }
    const differs = (["outcome", "attempts", "outputHash"] as const).filter((k) => x[k] !== y[k]);
    return { taskId, change: (differs.length ? "changed" : "same") as Change, differs, a: x, b: y };
  });
  const [fa, fb] = runs.map((r) => new Map(generatedFiles(r!.completed).map((f) => [f.path, f])));
  const paths = [...new Set([...fa.keys(), ...fb.keys()])].sort();
  const files = paths.map((path) => {
    const [x, y] = [fa.get(path), fb.get(path)];
    const change: Change = !x
      ? "added"
      : !y
      ? "removed"
      : x.content === y.content && x.mode === y.mode
      ? "same"
      : "changed";
    return change === "changed"
      ? {
        path,
        change,
        patch: createTwoFilesPatch(`${a}/${path}`, `${b}/${path}`, x!.content, y!.content),
      }
      : { path, change };
  });
  const total = (t: Map<string, TaskLine>) => ({
    tasks: t.size,
    tokens: [...t.values()].reduce((n, l) => n + l.tokens, 0),
    costUsd: [...t.values()].reduce((n, l) => n + l.costUsd, 0),
    dead: [...t.values()].filter((l) => l.outcome === "dead").length,
  });
  return { a, b, tasks, files, totals: { a: total(ta), b: total(tb) } };
}
