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
import type { EventOf, Ledger } from "../ledger/mod.ts";

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

/** The events a run's view is made of, in the order the ledger holds them. */
export const RUN_VIEW_EVENTS = [
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
/** One of the events a run's view is made of. */
export type RunViewEvent = EventOf<typeof RUN_VIEW_EVENTS>;

/**
 * A run's view folded from its events, one at a time in ledger order: from a read of the ledger
 * (`viewRun`) or from commits as they land (`RunIndex`), with the same result.
 */
export class RunFold {
  #view?: Omit<RunView, "tasks">;
  readonly #tasks = new Map<string, z.infer<typeof TaskView>>();

  /** `withTasks`: false for a line in a list, which task events would only cost. */
  constructor(readonly runId: string, readonly withTasks = true) {}

  /** When the run started; undefined before its `run_started`. */
  get startedAt(): number | undefined {
    return this.#view?.startedAt;
  }

  /** Whether the run has an end in the ledger (finished, cancelled or stopped by an error). */
  get ended(): boolean {
    return !!(this.#view?.finished || this.#view?.stopped);
  }

  apply(e: RunViewEvent): void {
    if (e.type === "run_started") {
      this.#view = {
        runId: this.runId,
        status: "running",
        startedAt: e.ts,
        settings: e.payload,
        plannedBy: null,
        finished: null,
        stopped: null,
      };
      return;
    }
    const view = this.#view;
    if (!view) return;
    if (e.type === "run_planned") {
      // A later plan (a model's, after the facts) keeps what the tasks did so far.
      view.plannedBy = {
        source: e.payload.source,
        ...(e.payload.model ? { model: e.payload.model } : {}),
      };
      if (!this.withTasks) return;
      for (const t of e.payload.tasks) {
        const known = this.#tasks.get(t.id);
        this.#tasks.set(t.id, {
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
    } else if (this.withTasks) this.#task(e);
  }

  #task(e: Exclude<RunViewEvent, { type: `run_${string}` }>): void {
    let t = this.#tasks.get(e.payload.taskId);
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
      this.#tasks.set(t.id, t);
    }
    if (!t) return;
    if (e.type === "task_started") {
      Object.assign(t, { state: "running", attempts: e.payload.attempt, agent: e.actor });
    } else if (e.type === "task_succeeded") Object.assign(t, { state: "succeeded", cause: null });
    else if (e.type === "task_failed") {
      Object.assign(t, { state: "retrying", cause: e.payload.cause });
    } else if (e.type === "task_dead") {
      Object.assign(t, { state: "dead", cause: e.payload.cause });
    } else Object.assign(t, { state: "skipped", cause: e.payload.reason });
  }

  /**
   * The view as it stands, a copy of its own; `active`: whether this process runs it now (a
   * run with no end that no one runs was interrupted and can be resumed).
   */
  summary(active: boolean): Omit<RunView, "tasks"> | undefined {
    if (!this.#view) return undefined;
    const finished = this.#view.finished;
    const status = finished
      ? (finished.cancelled ? "cancelled" : "finished")
      : active
      ? "running"
      : "interrupted";
    return { ...this.#view, status };
  }

  /** The same run's line without its tasks: many runs' lines are kept cheaply. */
  lineOnly(): RunFold {
    const line = new RunFold(this.runId, false);
    line.#view = this.#view;
    return line;
  }

  /** The view with its tasks, a copy of its own (see `summary`). */
  view(active: boolean): RunView | undefined {
    const summary = this.summary(active);
    return summary && { ...summary, tasks: [...this.#tasks.values()].map((t) => ({ ...t })) };
  }
}

/**
 * Reads one run back from the ledger. `active` says whether this process is running it now; a
 * run with no end that no one runs was interrupted (a crash, a kill) and can be resumed.
 */
export async function viewRun(
  ledger: Ledger,
  runId: string,
  active: boolean,
): Promise<RunView | undefined> {
  const fold = new RunFold(runId);
  for await (const e of ledger.events(RUN_VIEW_EVENTS, { runId })) fold.apply(e);
  return fold.view(active);
}

/** The run-level events: enough for a run's line in a list, without its tasks. */
export const RUN_EVENTS = [RunStarted, RunPlanned, RunFinished, RunStopped] as const;
