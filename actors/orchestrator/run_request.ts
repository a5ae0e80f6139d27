import type { ClusterNode } from "../../runtime/cluster_node.ts";
import { join } from "node:path";
import { z } from "zod";
import type { ApprovalRequest } from "../../policies/mod.ts";
import { DEFAULT_APPROVALS_DIR, DEFAULT_KEY_DIR } from "../../policies/mod.ts";
import type { ActorSystem, HealthMonitor } from "../../runtime/mod.ts";
import type { GeneratedFile } from "../tasks/repo_facts.ts";
import { LlmConfig } from "../llm/llm_config.ts";
import { DeployTarget } from "../tasks/task_kinds.ts";
import { DEFAULT_GOAL } from "../planning/offline_task_planner.ts";
import type { Progress, RecordedOutcomes, RunOutcome } from "./orchestrator.ts";
import type { PlannedBy, RunReport } from "./run_report.ts";
import type { RunSettings } from "./run_events.ts";
import { teamTemplates } from "./team.ts";

/** The team keeps one agent of each template it always runs, so it needs at least this many. */
export const TEAM_SIZE = teamTemplates(".").filter((t) => (t.pool?.min ?? 1) > 0).length;

/**
 * What a person asks for: the CLI's flags and the HTTP endpoint's body. The one validator of run
 * options: front ends pass what they were given and report its issues.
 */
export const RunRequest = z.strictObject({
  goal: z.string().min(1).default(DEFAULT_GOAL),
  repo: z.string().min(1).default("."),
  /** Default: `OUT_ROOT/RUN_ID`. */
  out: z.string().min(1).optional(),
  /** Where a run without `out` writes its results, in a folder named for the run. */
  outRoot: z.string().min(1).default(join(".troupe", "runs")),
  apply: z.boolean().default(false),
  autonomy: z.number().int().min(1).max(5).default(3),
  policies: z.array(z.string().min(1)).default([]),
  compliance: z.array(z.string().min(1)).default([]),
  runTests: z.boolean().default(false),
  /** Run repository code without bubblewrap (PATH and HOME only); refused by default. */
  unsandboxed: z.boolean().default(false),
  /** Run the proposed CI jobs' steps here, sandboxed, before proposing them. */
  verifyCi: z.boolean().default(false),
  /**
   * Run each ecosystem's API documentation tool (deno doc, go doc, pydoc, cargo doc, TypeDoc),
   * sandboxed, and propose its pages, linked from the README.
   */
  apiDocs: z.boolean().default(false),
  /**
   * Deploy the repository to this local environment once the review approves it (and, with
   * `runTests`, its tests pass): blue-green behind nginx, as `deno task deploy` does.
   */
  deploy: DeployTarget.optional(),
  /** Let install steps reach the network while CI is verified. */
  allowInstallNetwork: z.boolean().default(false),
  /**
   * Let repository code use the toolchains installed in the user's home (rustup's, `~/.local/bin`,
   * `~/go/bin`), read-only; only the system folders otherwise.
   */
  homeToolchains: z.boolean().default(false),
  /** Plan (and later code and review) with these models; without, everything is offline. */
  llm: LlmConfig.optional(),
  /**
   * Answer model calls from this earlier run's recorded answers instead of asking a model (its
   * model configuration too, unless `llm` is given): the run again at no cost, to compare.
   */
  replayModels: z.string().min(1).optional(),
  maxAgents: z.number().int().min(TEAM_SIZE).default(10),
  keys: z.string().min(1).default(DEFAULT_KEY_DIR),
  approvals: z.string().min(1).default(DEFAULT_APPROVALS_DIR),
});
/** A run request as written, defaults not yet filled in. */
export type RunRequest = z.input<typeof RunRequest>;

/** What is not stored with the run: where the people and agents it works with are now. */
export const ResumeOptions = RunRequest.pick({ maxAgents: true, keys: true, approvals: true });
/** The parts of a `RunRequest` a resumed run takes anew. */
export type ResumeOptions = z.input<typeof ResumeOptions>;

/** What a front end hears from a running session. */
export interface RunHooks {
  /** After every step of the task DAG. */
  onProgress?(p: Progress): void;
  /** Votes counted or refused, writes refused by policy: lines for a person. */
  onNews?(text: string): void;
  /** A request waits for signatures: tell the people who may sign. */
  onApprovalNeeded?(request: ApprovalRequest): void;
}

/**
 * Where a session runs and whom it tells. Without a `system` it starts an actor system of its
 * own for the run and stops it at the end; with one (a server's), it starts its team there under
 * `team.RUN` with ids `RUN.scanner-1`, …, records only those actors' events under its run, and
 * removes the team at the end.
 */
export interface RunEnvironment extends RunHooks {
  system?: ActorSystem;
  /** Agents of the team by template name (`detector`) run from these modules instead. */
  modules?: Record<string, string>;
  /** Set by `verifyRun`: the run re-executes a recorded one, answered from its record. */
  reenact?: Reenactment;
  /** The health monitor of a shared system; a session with a system of its own starts one. */
  health?: HealthMonitor;
  /**
   * Spread the run's tasks over a cluster: its system joins it, and its agents are leased from
   * the nodes that offer the repo-ops team (`deno task node --offer repo-ops`) and, unless
   * `localAgents` is false, from its own node too.
   */
  cluster?: { servers: string[]; localAgents?: boolean };
  /** The cluster a shared `system` already belongs to (a server's): its runs spread over it. */
  clusterNode?: ClusterNode;
}

/**
 * A recorded run done again without calling out: its model and tool calls are answered from its
 * record, its agents' effects fed back, its approvals and its apply step taken as they went.
 */
export interface Reenactment {
  from: string;
  outcomes: RecordedOutcomes;
  /** Where the report and files go (the recorded `out` is left alone). */
  out: string;
  /** What the recorded run applied, and why not. */
  finished: { applied: string[]; refused?: string };
}

/** Who planned a run; with a model that gave no usable plan, why the offline plan ran. */
export type { PlannedBy } from "./run_report.ts";

/** The end of a run, as `RunSession.run` returns it. */
export interface RunResult {
  runId: string;
  settings: RunSettings;
  report: RunReport;
  files: GeneratedFile[];
  outcome: RunOutcome;
  applied: string[];
  /** Why the generated files were not (all) applied. */
  refused?: string;
  /** Why the run was cancelled, when it was. */
  cancelled?: string;
  plannedBy: PlannedBy;
  /**
   * True when every task completed, the project's tests (if run) passed, nothing was refused, and
   * a model answered when one was asked for.
   */
  ok: boolean;
}
