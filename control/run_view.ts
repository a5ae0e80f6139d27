import { z } from "zod";
import {
  RunFinished,
  RunPlanned,
  RunSettings,
  RunStarted,
  RunStopped,
  TaskDead,
  TaskFailed,
  TaskSkipped,
  TaskStarted,
  TaskSucceeded,
} from "../actors/mod.ts";
import type { Ledger } from "../ledger/mod.ts";

/** Where a task stands, from its ledger events. */
export const TaskState = z.enum(["pending", "running", "retrying", "succeeded", "dead", "skipped"]);

/** One task of a run's DAG with its state. */
export const TaskView = z.object({
  id: z.string(),
  kind: z.string(),
  capability: z.string(),
  dependsOn: z.array(z.string()),
  state: TaskState,
  attempts: z.number().int(),
  agent: z.string().nullable(),
  cause: z.string().nullable(),
});

/** A run as the ledger tells it: settings, the task DAG with each task's state, and its end. */
export const RunView = z.object({
  runId: z.string(),
  status: z.enum(["running", "finished", "cancelled", "interrupted"]),
  startedAt: z.number(),
  settings: RunSettings,
  /** Who planned the run: the offline rules or a model (and which). */
  plannedBy: z.object({ source: z.string(), model: z.string().optional() }).nullable(),
  tasks: z.array(TaskView),
  finished: RunFinished.payload.nullable(),
  /** Why the run stopped before it could finish, when an error stopped it. */
  stopped: z.object({ reason: z.string() }).nullable(),
});
/** A run's view. */
export type RunView = z.infer<typeof RunView>;

const EVENTS = [
  RunStarted,
  RunPlanned,
  TaskStarted,
  TaskSucceeded,
  TaskFailed,
  TaskDead,
  TaskSkipped,
  RunFinished,
  RunStopped,
] as const;

/**
 * Reads one run back from the ledger. `active` says whether this process is running it now; a
 * run with no end that no one runs was interrupted (a crash, a kill) and can be resumed.
 */
export async function viewRun(
  ledger: Ledger,
  runId: string,
  active: boolean,
): Promise<RunView | undefined> {
  let view: RunView | undefined;
  const tasks = new Map<string, z.infer<typeof TaskView>>();
  for await (const e of ledger.events(EVENTS, { runId })) {
    if (e.type === "run_started") {
      view = {
        runId,
        status: "running",
        startedAt: e.ts,
        settings: e.payload,
        plannedBy: null,
        tasks: [],
        finished: null,
        stopped: null,
      };
      continue;
    }
    if (!view) continue;
    if (e.type === "run_planned") {
      // A later plan (a model's, after the facts) keeps what the tasks did so far.
      view.plannedBy = {
        source: e.payload.source,
        ...(e.payload.model ? { model: e.payload.model } : {}),
      };
      for (const t of e.payload.tasks) {
        const known = tasks.get(t.id);
        tasks.set(t.id, {
          ...t,
          state: known?.state ?? "pending",
          attempts: known?.attempts ?? 0,
          agent: known?.agent ?? null,
          cause: known?.cause ?? null,
        });
      }
    } else if (e.type === "run_finished") {
      view.finished = e.payload;
    } else if (e.type === "run_stopped") {
      view.stopped = e.payload;
    } else {
      let t = tasks.get(e.payload.taskId);
      if (!t && e.type === "task_succeeded" && e.payload.forkedFrom) {
        // A fork's reused task, recorded before its plan: the plan adds its edges.
        t = {
          id: e.payload.taskId,
          kind: e.payload.kind,
          capability: "",
          dependsOn: [],
          state: "pending",
          attempts: e.payload.attempt,
          agent: e.actor,
          cause: null,
        };
        tasks.set(t.id, t);
      }
      if (!t) continue;
      if (e.type === "task_started") {
        Object.assign(t, { state: "running", attempts: e.payload.attempt, agent: e.actor });
      } else if (e.type === "task_succeeded") Object.assign(t, { state: "succeeded", cause: null });
      else if (e.type === "task_failed") {
        Object.assign(t, { state: "retrying", cause: e.payload.cause });
      } else if (e.type === "task_dead") {
        Object.assign(t, { state: "dead", cause: e.payload.cause });
      } else Object.assign(t, { state: "skipped", cause: e.payload.reason });
    }
  }
  if (!view) return undefined;
  view.tasks = [...tasks.values()];
  view.status = view.finished
    ? (view.finished.cancelled ? "cancelled" : "finished")
    : active
    ? "running"
    : "interrupted";
  return view;
}

/** The run-level events: enough for a run's line in a list, without its tasks. */
const RUN_EVENTS = [RunStarted, RunPlanned, RunFinished, RunStopped] as const;

/**
 * Many runs' views without their tasks, from one read of the run-level events (a few per run)
 * instead of one read of every event per run: the list the page polls stays quick while runs
 * write.
 */
export async function summarizeRuns(
  ledger: Ledger,
  runIds: readonly string[],
  active: (runId: string) => boolean,
): Promise<Omit<RunView, "tasks">[]> {
  const wanted = new Set(runIds);
  const views = new Map<string, Omit<RunView, "tasks">>();
  for await (const e of ledger.events(RUN_EVENTS)) {
    if (!e.runId || !wanted.has(e.runId)) continue;
    if (e.type === "run_started") {
      views.set(e.runId, {
        runId: e.runId,
        status: "running",
        startedAt: e.ts,
        settings: e.payload,
        plannedBy: null,
        finished: null,
        stopped: null,
      });
      continue;
    }
    const view = views.get(e.runId);
    if (!view) continue;
    if (e.type === "run_planned") {
      view.plannedBy = {
        source: e.payload.source,
        ...(e.payload.model ? { model: e.payload.model } : {}),
      };
    } else if (e.type === "run_finished") view.finished = e.payload;
    else view.stopped = e.payload;
  }
  for (const view of views.values()) {
    view.status = view.finished
      ? (view.finished.cancelled ? "cancelled" : "finished")
      : active(view.runId)
      ? "running"
      : "interrupted";
  }
  return runIds.flatMap((id) => views.get(id) ?? []);
}
