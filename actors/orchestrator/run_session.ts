import type { z } from "zod";
import type { TestRun } from "../agents/kit/run_tests.ts";
import { recordTestResults, regressionsSince } from "./test_history.ts";
import { type Ledger, LedgerError } from "../../ledger/mod.ts";
import {
  ApprovalDesk,
  loadCompliancePack,
  loadPolicyFile,
  PolicyEngine,
  recordDecisions,
  tailoredPreset,
} from "../../policies/mod.ts";
import { parseOrThrow, TroupeError } from "../../runtime/errors.ts";
import { planRun, type RunOptions } from "../planning/offline_task_planner.ts";
import { validatePlan } from "../tasks/task_graph.ts";
import type { TaskPacketInput } from "../tasks/task_packet.ts";
import { inRunSpan } from "../tasks/run_trace.ts";
import { applyFiles } from "./apply_files.ts";
import { newRun } from "./new_run.ts";
import { runWithModel } from "./model_phase.ts";
import { Orchestrator, type Progress, type RunOutcome } from "./orchestrator.ts";
import { recoverRun } from "./recover_run.ts";
import { buildReport, testsFailed, writeOutputs } from "./run_report.ts";
import { runDeployerSpec } from "./run_deployer.ts";
import {
  RunCancelRequested,
  RunFinished,
  RunPlanned,
  type RunSettings,
  RunStarted,
  TaskSucceeded,
} from "./run_events.ts";
import { recordLessons } from "./run_lessons.ts";
import {
  type PlannedBy,
  type Reenactment,
  ResumeOptions,
  type RunEnvironment,
  type RunRequest,
  type RunResult,
} from "./run_request.ts";
import { SpendMeter } from "./run_spend.ts";
import { type RunTeam, withRunTeam } from "./run_team.ts";

/** What every phase of a run reads: its packs, policy and plan options, and the offline plan. */
interface Prepared {
  policy: PolicyEngine;
  planOptions: RunOptions;
  offline: TaskPacketInput[];
  scratch: string;
}

/**
 * One run of the repo-ops team, from its first event to its last: the same for the CLI and
 * the HTTP endpoint. `start` validates a request and records `run_started`; `resume` reads a
 * run back from the ledger; `run` goes through the phases (prepare, plan and work on a team,
 * review and apply, finish); `cancel` stops it between tasks. The run's state lives in the
 * ledger, so a run killed at any point is resumed with `resume`.
 */
export class RunSession {
  readonly #abort = new AbortController();
  readonly #spend = new SpendMeter();
  /** The seq of its `run_started` (unknown for a resumed run), and how its span's end is marked. */
  #started?: number;
  #finished = (_seq: number) => {};

  private constructor(
    readonly ledger: Ledger,
    readonly runId: string,
    readonly settings: RunSettings,
    readonly completed: Map<string, unknown>,
    readonly options: z.output<typeof ResumeOptions>,
    readonly hooks: RunEnvironment,
  ) {}

  /** Checks the request (see `newRun`) and records the run's start. */
  static async start(
    ledger: Ledger,
    input: RunRequest,
    hooks: RunEnvironment = {},
  ): Promise<RunSession> {
    const { request, runId, settings } = await newRun(ledger, input);
    const started = await ledger.record(RunStarted, {
      runId,
      actor: "orchestrator",
      payload: settings,
    });
    const { maxAgents, keys, approvals } = request;
    const options = { maxAgents, keys, approvals };
    const session = new RunSession(ledger, runId, settings, new Map(), options, hooks);
    session.#started = started.seq;
    return session;
  }

  /**
   * A recorded run done again (`verifyRun`): its settings recorded under a new run id, the
   * tasks a fork reused recorded as they were, and `hooks.reenact` answering the rest.
   */
  static async reenact(
    ledger: Ledger,
    runId: string,
    settings: RunSettings,
    reused: { actor: string; payload: z.input<typeof TaskSucceeded.payload> }[],
    hooks: RunEnvironment & { reenact: Reenactment },
  ): Promise<RunSession> {
    await ledger.record(RunStarted, { runId, actor: "orchestrator", payload: settings });
    const completed = new Map<string, unknown>();
    for (const r of reused) {
      await ledger.record(TaskSucceeded, { runId, actor: r.actor, payload: r.payload });
      completed.set(r.payload.taskId, r.payload.output);
    }
    const options = parseOrThrow(ResumeOptions, {}, "resume options");
    return new RunSession(ledger, runId, settings, completed, options, hooks);
  }

  /** A run read back from the ledger; completed tasks are not done again. */
  static async resume(
    ledger: Ledger,
    runId: string,
    options: ResumeOptions = {},
    hooks: RunEnvironment = {},
  ): Promise<RunSession> {
    const found = await recoverRun(ledger, runId);
    if (!found) {
      throw new TroupeError("not_found", `no run "${runId}" in ${ledger.path}`, { runId });
    }
    const o = parseOrThrow(ResumeOptions, options, "resume options");
    return new RunSession(ledger, runId, found.settings, found.completed, o, hooks);
  }

  /** Stops the run between tasks: tasks not started are skipped, approvals stop waiting. */
  cancel(reason = "cancelled"): void {
    if (this.#abort.signal.aborted) return;
    this.#abort.abort(reason);
    this.ledger.record(RunCancelRequested, {
      runId: this.runId,
      actor: "orchestrator",
      payload: { reason },
    }).catch(() => {}); // the run's own end records the cancel too
  }

  /** True once `cancel` was called. */
  get cancelled(): boolean {
    return this.#abort.signal.aborted;
  }

  /**
   * Runs the team to the end, writes the outputs and, with `apply`, the files. A ledger that
   * cannot be written (a full disk, a read-only folder) stops the run: work whose events cannot
   * be stored would be done again on resume anyway, and the error says how to resume.
   */
  run(): Promise<RunResult> {
    const { runId, settings: { goal } } = this;
    return inRunSpan({ runId, goal, seq: this.#started }, (finished) => {
      this.#finished = finished;
      return this.#run();
    });
  }

  async #run(): Promise<RunResult> {
    try {
      // Copies of the repository for its code to run in live here, never in the repository;
      // gone after the run.
      const scratch = await Deno.makeTempDir({ prefix: "troupe-scratch-" });
      await using _scratch = {
        [Symbol.asyncDispose]: () => Deno.remove(scratch, { recursive: true }).catch(() => {}),
      };
      const prepared = await this.#prepare(scratch);
      const { settings } = this;
      const run = { runId: this.runId, repo: settings.repo, scratch, coder: !!settings.llm };
      const { outcome, plannedBy } = await withRunTeam(
        this.ledger,
        { ...run, maxAgents: this.options.maxAgents },
        this.hooks,
        (team) => this.#work(team, prepared),
      );
      return await this.#finish(prepared, outcome, plannedBy);
    } catch (err) {
      if (!(err instanceof LedgerError) || err.code !== "append_failed") throw err;
      const { seq } = this.ledger.head;
      throw new LedgerError(
        "append_failed",
        `run ${this.runId} stopped: ${err.message}. Every event the ledger acknowledged is ` +
          `stored (up to seq ${seq}). Free space or make the ledger's folder writable, then ` +
          `resume it: deno task run --resume ${this.runId}`,
        { runId: this.runId, seq },
      );
    }
  }

  /** Phase 1: the packs, the policy and the offline plan. */
  async #prepare(scratch: string): Promise<Prepared> {
    const { settings } = this;
    const packs = await Promise.all(settings.compliance.map((p) => loadCompliancePack(p)));
    const planOptions: RunOptions = {
      repo: settings.repo,
      runTests: settings.runTests,
      date: settings.date,
      packs,
      scratch,
      unsandboxed: settings.unsandboxed,
      verifyCi: settings.verifyCi,
      apiDocs: settings.apiDocs,
      ...(settings.deploy ? { deploy: settings.deploy } : {}),
      allowInstallNetwork: settings.allowInstallNetwork,
      homeToolchains: settings.homeToolchains,
    };
    const userSets = await Promise.all(settings.policies.map((f) => loadPolicyFile(f)));
    const packSets = packs.flatMap((p) => p.policy ? [p.policy] : []);
    const policy = new PolicyEngine(tailoredPreset(settings.autonomy, [...userSets, ...packSets]), {
      onDecision: recordDecisions(this.ledger, this.runId),
    });
    return { policy, planOptions, offline: planRun(settings.goal, planOptions), scratch };
  }

  /** Phase 2: plans (with the model, when there is one) and runs the plan on the team. */
  async #work(
    team: RunTeam,
    prepared: Prepared,
  ): Promise<{ outcome: RunOutcome; plannedBy: PlannedBy }> {
    const { ledger, runId, settings, hooks } = this;
    const signal = this.#abort.signal;
    const onProgress = hooks.onProgress &&
      ((p: Progress) =>
        hooks.onProgress!(settings.llm ? { ...p, spend: this.#spend.progress() } : p));
    // A run that deploys has a deployer on its own thread (see run_deployer.ts).
    using desk = settings.deploy
      ? await ApprovalDesk.open({
        ledger,
        dir: this.options.approvals,
        keyDir: this.options.keys,
        onNews: hooks.onNews,
      })
      : undefined;
    if (desk) {
      await team.system.spawn(
        runDeployerSpec(`${team.prefix}deployer`, {
          ledger,
          runId,
          policy: prepared.policy,
          desk,
          signal,
          replaying: !!hooks.reenact,
          onNews: hooks.onNews,
          onApprovalNeeded: hooks.onApprovalNeeded,
        }),
        team.supervisor ? { supervisor: team.supervisor } : {},
      );
    }
    const run = (plan: TaskPacketInput[]) =>
      new Orchestrator({
        system: team.system,
        ledger,
        runId,
        agents: team.agents,
        health: team.health,
        completed: this.completed,
        signal,
        onProgress,
        onApprovalNeeded: hooks.onApprovalNeeded,
        ...(hooks.reenact ? { replay: hooks.reenact.outcomes } : {}),
      }).run(plan);
    const recordPlan = (
      plan: TaskPacketInput[],
      by: { source?: "offline" | "model"; model?: string; rationale?: string } = {},
    ) =>
      ledger.record(RunPlanned, {
        runId,
        actor: "orchestrator",
        payload: {
          ...by,
          agents: team.versions,
          tasks: validatePlan(plan, new Set(plan.map((t) => t.capability))).map((t) => ({
            id: t.id,
            kind: t.kind,
            capability: t.capability,
            dependsOn: t.dependsOn,
          })),
        },
      });
    if (!settings.llm) {
      await recordPlan(prepared.offline);
      return { outcome: await run(prepared.offline), plannedBy: { source: "offline" } };
    }
    return await runWithModel({
      ...prepared,
      ledger,
      runId,
      settings: { ...settings, llm: settings.llm },
      team,
      completed: this.completed,
      spend: this.#spend,
      signal,
      run,
      recordPlan,
      onNews: hooks.onNews,
      ...(hooks.reenact ? { replayFrom: hooks.reenact.from } : {}),
    });
  }

  /** Phase 3 and the end: lessons, the report, applying files, and `run_finished`. */
  async #finish(
    prepared: Prepared,
    outcome: RunOutcome,
    plannedBy: PlannedBy,
  ): Promise<RunResult> {
    const { ledger, runId, settings, hooks } = this;
    const signal = this.#abort.signal;
    // A replay repeats recorded answers: it is no new evidence, so it teaches nothing.
    if (settings.llm && !settings.replayModels) {
      await recordLessons(
        ledger,
        { runId, goal: settings.goal },
        outcome,
        plannedBy,
        this.#spend.byTask,
      );
    }
    // The plan as recorded (a resumed run's last), for the report's task graph.
    let tasks;
    for await (const e of ledger.events([RunPlanned], { runId })) tasks = e.payload.tasks;
    // The tests' results, kept for the next run of this repository to compare with.
    const tested = outcome.outputs.get("test") as TestRun[] | undefined;
    let regressions;
    if (tested) {
      await recordTestResults(ledger, runId, tested);
      regressions = await regressionsSince(ledger, { runId, repo: settings.repo }, tested);
    }
    const { report, files } = buildReport(
      runId,
      settings.goal,
      settings.repo,
      outcome,
      settings.llm ? this.#spend.total : undefined,
      settings.llm ? plannedBy : undefined,
      tasks,
      regressions,
    );
    const { reenact } = hooks;
    await writeOutputs(reenact?.out ?? settings.out, settings.repo, report, files);
    // A replay writes nothing into the repository: what was applied is taken from the record.
    let { applied, refused } = reenact?.finished ?? { applied: [] as string[] };
    if (settings.apply && !signal.aborted && !reenact) {
      using desk = await ApprovalDesk.open({
        ledger,
        dir: this.options.approvals,
        keyDir: this.options.keys,
        onNews: hooks.onNews,
      });
      ({ applied, refused } = await applyFiles({
        ledger,
        runId,
        repo: settings.repo,
        files,
        verdict: report.review?.verdict,
        policy: prepared.policy,
        desk,
        signal,
        onApprovalNeeded: hooks.onApprovalNeeded,
        onNews: hooks.onNews,
      }));
    }
    const cancelled = signal.aborted ? String(signal.reason ?? "cancelled") : undefined;
    const ends = { ...(refused ? { refused } : {}), ...(cancelled ? { cancelled } : {}) };
    const finished = await ledger.record(RunFinished, {
      runId,
      actor: "orchestrator",
      payload: { dead: outcome.dead.length, skipped: outcome.skipped.length, applied, ...ends },
    });
    this.#finished(finished.seq);
    return {
      runId,
      settings,
      report,
      files,
      outcome,
      applied,
      ...ends,
      plannedBy,
      // A run whose own tests failed did not succeed, whatever else it did; nor one that asked
      // for a model that never answered (its offline fallback ran, and the report says why).
      ok: outcome.dead.length === 0 && !refused && !cancelled && !testsFailed(report) &&
        !(settings.llm && this.#spend.answered === 0),
    };
  }
}
