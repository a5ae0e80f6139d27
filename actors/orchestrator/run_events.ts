import { z } from "zod";
import { eventType } from "../../ledger/mod.ts";
import { Effect } from "../../runtime/mod.ts";
import { LlmConfig } from "../llm/llm_config.ts";
import { DeployTarget } from "../tasks/task_kinds.ts";

/**
 * A run's ledger events. A run's state lives in them: `--resume` and the HTTP endpoint read a
 * run back from these and nothing else.
 */

/** How a run was started; a resumed run goes on with the same settings. */
export const RunSettings = z.object({
  goal: z.string().min(1),
  /** Absolute path of the repository. */
  repo: z.string().min(1),
  /** Absolute path of the folder results go to. */
  out: z.string().min(1),
  runTests: z.boolean(),
  /** The day the run started (YYYY-MM-DD), for the CHANGELOG entry it may write. */
  date: z.string(),
  autonomy: z.number().int().min(1).max(5),
  /** Policy files (absolute paths) on top of the autonomy preset. */
  policies: z.array(z.string()),
  /** Compliance packs: built-in names or pack files. */
  compliance: z.array(z.string()),
  /** Write the reviewed files into the repository. */
  apply: z.boolean(),
  /** Repository code ran without bubblewrap (the user's choice). */
  unsandboxed: z.boolean().default(false),
  /** Where the repository was deployed once the review approved it. */
  deploy: DeployTarget.optional(),
  /** Each ecosystem's API documentation tool ran, and its pages were proposed. */
  apiDocs: z.boolean().default(false),
  /** The proposed CI was run here before it was proposed. */
  verifyCi: z.boolean().default(false),
  allowInstallNetwork: z.boolean().default(false),
  /** Toolchain folders of the user's home the sandbox showed (absolute paths). */
  homeToolchains: z.array(z.string()).default([]),
  /** The models the run may use (no keys: those stay in environment variables). */
  llm: LlmConfig.optional(),
  /** The run's random seed: the model router samples from it (unless `llm.seed` is set). */
  seed: z.number().int().optional(),
  /** Model calls were answered from this earlier run's recorded answers. */
  replayModels: z.string().optional(),
  /**
   * A fork: the run it was forked from, and where (the parent's event `seq`; `at` as the user
   * named it). What the parent did before is reused: its finished tasks, its model answers.
   */
  forkOf: z.object({ runId: z.string(), at: z.string(), seq: z.number().int() }).optional(),
});
/** The settings of a run, as `run_started` holds them. */
export type RunSettings = z.infer<typeof RunSettings>;

/** The first event of a run: its settings. */
export const RunStarted = eventType("run_started", RunSettings);
/** The task DAG a run will execute (again on resume; the latest counts). */
export const RunPlanned = eventType(
  "run_planned",
  z.object({
    /** `offline`: the rule-based planner; `model`: planned by a model. */
    source: z.enum(["offline", "model"]).default("offline"),
    model: z.string().optional(),
    rationale: z.string().optional(),
    /** Each agent's code version (see `agentVersions`), so a replay can say whose changed. */
    agents: z.record(z.string(), z.string()).optional(),
    tasks: z.array(z.object({
      id: z.string(),
      kind: z.string(),
      capability: z.string(),
      dependsOn: z.array(z.string()),
    })),
  }),
);
/** Someone asked a run to stop between tasks, and why. */
export const RunCancelRequested = eventType(
  "run_cancel_requested",
  z.object({ reason: z.string() }),
);

/**
 * The last event of a run: how many tasks died or were skipped, what was applied, and why not,
 * or that it was cancelled.
 */
export const RunFinished = eventType(
  "run_finished",
  z.object({
    dead: z.number().int(),
    skipped: z.number().int(),
    applied: z.array(z.string()),
    refused: z.string().optional(),
    cancelled: z.string().optional(),
  }),
);

/**
 * A run stopped by an error before it could finish (its outputs could not be written, its ledger
 * was full, …): why, so that a run never ends in silence. It can be resumed once that is fixed.
 */
export const RunStopped = eventType("run_stopped", z.object({ reason: z.string() }));

const Task = { taskId: z.string(), kind: z.string() };
/** A task began an attempt on an agent. */
export const TaskStarted = eventType(
  "task_started",
  z.object({ ...Task, attempt: z.number().int() }),
);
/** A task finished, with its output; a resumed run does not do it again. */
export const TaskSucceeded = eventType(
  "task_succeeded",
  z.object({
    ...Task,
    attempt: z.number().int(),
    durationMs: z.number(),
    idempotencyKey: z.string(),
    output: z.unknown(),
    /** What the agent learnt from outside doing it, in order: `replay --verify` feeds these. */
    effects: z.array(Effect).optional(),
    /** Done by this parent run before the fork point, reused by the fork (not done again). */
    forkedFrom: z.string().optional(),
  }),
);
/**
 * An attempt failed, with its cause; the task may be retried. With `effects` the agent answered
 * (its handler failed); without, no answer came (a timeout, a crash).
 */
export const TaskFailed = eventType(
  "task_failed",
  z.object({
    ...Task,
    attempt: z.number().int(),
    durationMs: z.number(),
    cause: z.string(),
    effects: z.array(Effect).optional(),
  }),
);
/** A task out of retries, or refused by policy: the run's dead-letter list. */
export const TaskDead = eventType(
  "task_dead",
  z.object({ ...Task, attempts: z.number().int(), cause: z.string() }),
);
/** A task that did not run: a dependency did not complete, or the run was cancelled. */
export const TaskSkipped = eventType("task_skipped", z.object({ ...Task, reason: z.string() }));

/** A generated file written into the repository by `--apply`; never written twice. */
export const FileApplied = eventType(
  "file_applied",
  z.object({ path: z.string(), mode: z.string() }),
);

/** Every event type of a run. */
export const RUN_EVENTS = [
  RunStarted,
  RunPlanned,
  RunCancelRequested,
  RunFinished,
  TaskStarted,
  TaskSucceeded,
  TaskFailed,
  TaskDead,
  TaskSkipped,
  FileApplied,
] as const;
