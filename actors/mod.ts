/**
 * troupe's agents and the orchestrator that runs them: the repo-ops team, task DAGs, and the
 * run session the CLI and the HTTP endpoint both drive.
 *
 * ```ts
 * import { Ledger } from "../ledger/mod.ts";
 * import { RunSession } from "./mod.ts";
 *
 * await using ledger = await Ledger.open(".troupe/ledger.duckdb");
 * const session = await RunSession.start(ledger, { repo: ".", goal: "audit this repository" });
 * const result = await session.run();
 * console.log(result.report.findings.length, "findings");
 * ```
 *
 * @module
 */
export { RunSession } from "./orchestrator/run_session.ts";
export {
  type PlannedBy,
  ResumeOptions,
  type RunEnvironment,
  type RunHooks,
  RunRequest,
  type RunResult,
  TEAM_SIZE,
} from "./orchestrator/run_request.ts";
export { type RepoOpsArgs, repoOpsTeam, teamOf } from "./orchestrator/run_team.ts";
export {
  FileApplied,
  RUN_EVENTS,
  RunCancelRequested,
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
} from "./orchestrator/run_events.ts";
export {
  Orchestrator,
  type OrchestratorOptions,
  type Progress,
  type RunOutcome,
} from "./orchestrator/orchestrator.ts";
export { DEFAULT_GOAL, planRun } from "./planning/offline_task_planner.ts";
export { PlanError } from "./tasks/plan_error.ts";
export { TaskPacket, type TaskPacketInput } from "./tasks/task_packet.ts";
export { validatePlan } from "./tasks/task_graph.ts";
export { type RecoveredRun, recoverRun } from "./orchestrator/recover_run.ts";
export { type RunReport } from "./orchestrator/run_report.ts";
export { testLines } from "./orchestrator/report_lines.ts";
export { startTeam, teamTemplates } from "./orchestrator/team.ts";
export { defineAgent } from "./tasks/define_agent.ts";
export { LlmConfig } from "./llm/llm_config.ts";
export { ForkRequest, forkRun } from "./orchestrator/fork_run.ts";
export { type Change, diffRuns, type RunDiff, type TaskLine } from "./orchestrator/run_diff.ts";
export { type VerifyResult, verifyRun } from "./orchestrator/verify_run.ts";
export { type Divergence, valueAt } from "./orchestrator/run_divergence.ts";
export { recordedReport } from "./orchestrator/recorded_report.ts";
export {
  deploy,
  environmentStatus,
  resumeDeploy,
  stopEnvironment,
} from "./deploy/deploy_release.ts";
export { type DeployOptions, type DeployOutcome } from "./deploy/deployment.ts";
export { detectService, ServicePlan } from "./deploy/service_plan.ts";
export {
  DeployRefused,
  DeployResumed,
  DeployStarted,
  ReleaseBuilt,
  ReleaseChecked,
  ReleaseLive,
  ReleaseRolledBack,
  ReleaseStarted,
  ReleaseSwitched,
} from "./deploy/deploy_events.ts";
