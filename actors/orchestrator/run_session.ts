import { join, resolve } from "node:path";
import { z } from "zod";
import { type Ledger, LedgerError, recordSystem } from "../../ledger/mod.ts";
import {
  ApprovalDesk,
  type ApprovalRequest,
  BUILTIN_PACKS,
  DEFAULT_APPROVALS_DIR,
  DEFAULT_KEY_DIR,
  loadCompliancePack,
  loadPolicyFile,
  PolicyEngine,
  recordDecisions,
  tailoredPreset,
} from "../../policies/mod.ts";
import { ActorSystem, type AgentFactory, HealthMonitor, TroupeError } from "../../runtime/mod.ts";
import { parseOrThrow } from "../../runtime/errors.ts";
import type { GeneratedFile } from "../tasks/repo_facts.ts";
import { applyFiles } from "./apply_files.ts";
import { DEFAULT_GOAL, planRun } from "../planning/offline_task_planner.ts";
import { Orchestrator, type Progress, type RunOutcome } from "./orchestrator.ts";
import { recoverRun } from "./recover_run.ts";
import { buildReport, type ModelSpend, type RunReport, writeOutputs } from "./run_report.ts";
import {
  RunCancelRequested,
  RunFinished,
  RunPlanned,
  type RunSettings,
  RunStarted,
  TaskDead,
  TaskSkipped,
  TaskStarted,
  TaskSucceeded,
} from "./run_events.ts";
import { validatePlan } from "../tasks/task_graph.ts";
import type { TaskPacketInput } from "../tasks/task_packet.ts";
import { LlmConfig, repoComplexity } from "../llm/llm_config.ts";
import {
  type GatewayReply,
  gatewaySpec,
  LLM_CALLS_TOPIC,
  type LlmCallRecord,
} from "../llm/llm_gateway.ts";
import { LlmCall, PlanAttempted, PlanFallback, recordedAnswers } from "../llm/llm_events.ts";
import { planWithModel, type RepoFacts } from "../planning/model_task_planner.ts";
import { findLessons, Lesson, modelRecords, rankModels } from "../llm/lessons.ts";
import { LocalEmbedder } from "../llm/local_embedder.ts";
import { startTeam, teamTemplates } from "./team.ts";
import { seededRandom } from "../../runtime/random.ts";
import { type PlannedInputsOf, TASK_KINDS } from "../tasks/task_kinds.ts";

/** The team keeps one agent of each template, so it needs at least this many. */
export const TEAM_SIZE = teamTemplates(".").length;

/** What a person asks for: the CLI's flags and the HTTP endpoint's body, validated once. */
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
  /** Let install steps reach the network while CI is verified. */
  allowInstallNetwork: z.boolean().default(false),
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
/**
 * Where a session runs and whom it tells. Without a `system` it starts an actor system of its
 * own for the run and stops it at the end; with one (a server's), it starts its team there under
 * `team.RUN` with ids `RUN.scanner-1`, …, records only those actors' events under its run, and
 * removes the team at the end.
 */
export interface RunEnvironment extends RunHooks {
  system?: ActorSystem;
  /** The health monitor of a shared system; a session with a system of its own starts one. */
  health?: HealthMonitor;
}

/** What a front end hears from a running session. */
export interface RunHooks {
  /** After every step of the task DAG. */
  onProgress?(p: Progress): void;
  /** Votes counted or refused, writes refused by policy: lines for a person. */
  onNews?(text: string): void;
  /** A request waits for signatures: tell the people who may sign. */
  onApprovalNeeded?(request: ApprovalRequest): void;
}

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
  /** Who planned the run; with a model that gave no usable plan, why the offline plan ran. */
  plannedBy: { source: "offline" | "model"; model?: string; fallback?: string };
  /** True when every task completed and nothing asked for was refused. */
  ok: boolean;
}

/** Where a run's team lives in a shared system: its supervisor and the prefix of its agents. */
export function teamOf(
  runId: string,
): { supervisor: string; prefix: string; owns(id: string): boolean } {
  const tag = runId.slice(-8);
  const supervisor = `team.${tag}`;
  const prefix = `${tag}.`;
  return { supervisor, prefix, owns: (id) => id === supervisor || id.startsWith(prefix) };
}

/** The tasks whose outputs a model plans from. */
const FACT_TASKS = ["scan", "detect", "assess"];

function newRunId(): string {
  return `run-${new Date().toISOString().replace(/[-:T]/g, "").slice(0, 14)}-${
    crypto.randomUUID().slice(0, 8)
  }`;
}

/**
 * One run of the repo-ops team, from its first event to its last: the same for the CLI and
 * the HTTP endpoint. `start` validates a request and records `run_started`; `resume` reads a
 * run back from the ledger; `run` plans, runs the team, writes the report and applies files;
 * `cancel` stops it between tasks. The run's state lives in the ledger, so a run killed at any
 * point is resumed with `resume`.
 */
export class RunSession {
  readonly #abort = new AbortController();

  private constructor(
    readonly ledger: Ledger,
    readonly runId: string,
    readonly settings: RunSettings,
    readonly completed: Map<string, unknown>,
    readonly options: z.output<typeof ResumeOptions>,
    readonly hooks: RunEnvironment,
  ) {}

  /** Checks the request (repository, policy files, packs) and records the run's start. */
  static async start(
    ledger: Ledger,
    input: RunRequest,
    hooks: RunEnvironment = {},
  ): Promise<RunSession> {
    const request = parseOrThrow(RunRequest, input, "run request");
    const repo = resolve(request.repo);
    const info = await Deno.stat(repo).catch(() => undefined);
    if (!info?.isDirectory) {
      throw new TroupeError("invalid_spec", `the repository ${request.repo} is not a directory`, {
        repo: request.repo,
      });
    }
    const policies = request.policies.map((f) => resolve(f));
    const compliance = request.compliance.map((p) => BUILTIN_PACKS.includes(p) ? p : resolve(p));
    // A bad policy or pack file stops the run before it starts.
    for (const f of policies) await loadPolicyFile(f);
    for (const p of compliance) await loadCompliancePack(p);
    let llm = request.llm;
    if (request.replayModels) {
      const from = request.replayModels;
      const recorded = await recoverRun(ledger, from);
      if (!recorded) {
        throw new TroupeError("not_found", `no run "${from}" to replay in ${ledger.path}`, {
          runId: from,
        });
      }
      llm ??= recorded.settings.llm;
      if (!llm || (await recordedAnswers(ledger, from)).length === 0) {
        throw new TroupeError(
          "invalid_spec",
          `run ${from} got no answers from a model, so there is nothing to replay; ` +
            "replay a run that was started with --llm or --llm-config",
          { runId: from },
        );
      }
    }
    const runId = newRunId();
    const settings: RunSettings = {
      goal: request.goal,
      repo,
      out: resolve(request.out ?? join(request.outRoot, runId)),
      runTests: request.runTests,
      date: new Date().toISOString().slice(0, 10),
      autonomy: request.autonomy,
      policies,
      compliance,
      apply: request.apply,
      unsandboxed: request.unsandboxed,
      verifyCi: request.verifyCi,
      allowInstallNetwork: request.allowInstallNetwork,
      ...(llm ? { llm } : {}),
      ...(request.replayModels ? { replayModels: request.replayModels } : {}),
    };
    await ledger.record(RunStarted, { runId, actor: "orchestrator", payload: settings });
    const { maxAgents, keys, approvals } = request;
    const options = { maxAgents, keys, approvals };
    return new RunSession(ledger, runId, settings, new Map(), options, hooks);
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

  /**
   * A `lesson` per task of the run, and one for its planning: kind, agent, model, plan, outcome,
   * error class, duration, tokens and cost. The router ranks models by them next time.
   */
  async #learn(
    outcome: RunOutcome,
    plannedBy: RunResult["plannedBy"],
    byTask: Map<string, { tokens: number; costUsd: number; model: string | null }>,
  ): Promise<void> {
    const { ledger, runId, settings } = this;
    const agents = new Map<string, string>();
    const durations = new Map<string, number>();
    const kinds = new Map<string, string>();
    for await (
      const e of ledger.events([TaskStarted, TaskSucceeded, TaskDead, TaskSkipped], { runId })
    ) {
      kinds.set(e.payload.taskId, e.payload.kind);
      if (e.type === "task_started") {
        agents.set(e.payload.taskId, e.actor.replace(/^[0-9a-f]{8}\./, "").replace(/-\d+$/, ""));
      }
      if (e.type === "task_succeeded") durations.set(e.payload.taskId, e.payload.durationMs);
    }
    const plan = plannedBy.source;
    const lessons: Lesson[] = [];
    const add = (taskId: string, kind: string, result: Lesson["outcome"], error: string | null) => {
      const spent = byTask.get(taskId);
      lessons.push({
        goal: settings.goal,
        taskId,
        kind,
        agent: agents.get(taskId) ?? null,
        model: spent?.model ?? null,
        plan,
        outcome: result,
        errorClass: error ? error.split(/[:(]/)[0].trim().slice(0, 80) : null,
        durationMs: durations.get(taskId) ?? null,
        tokens: spent?.tokens ?? 0,
        costUsd: spent?.costUsd ?? 0,
      });
    };
    add("plan", "plan", plan === "model" ? "succeeded" : "dead", plannedBy.fallback ?? null);
    for (const [id] of outcome.outputs) add(id, kinds.get(id) ?? id, "succeeded", null);
    for (const d of outcome.dead) add(d.taskId, kinds.get(d.taskId) ?? d.taskId, "dead", d.cause);
    for (const s of outcome.skipped) {
      add(s.taskId, kinds.get(s.taskId) ?? s.taskId, "skipped", s.reason);
    }
    for (const l of lessons) {
      await ledger.record(Lesson, { runId, actor: "orchestrator", payload: l });
    }
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
  async run(): Promise<RunResult> {
    try {
      return await this.#run();
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

  async #run(): Promise<RunResult> {
    const { ledger, runId, settings, hooks } = this;
    const signal = this.#abort.signal;
    const packs = await Promise.all(settings.compliance.map((p) => loadCompliancePack(p)));
    // Copies of the repository for its code to run in live here, never in the repository;
    // gone after the run.
    const scratch = await Deno.makeTempDir({ prefix: "troupe-scratch-" });
    await using _scratch = {
      [Symbol.asyncDispose]: () => Deno.remove(scratch, { recursive: true }).catch(() => {}),
    };
    const planOptions = {
      repo: settings.repo,
      runTests: settings.runTests,
      date: settings.date,
      packs,
      scratch,
      unsandboxed: settings.unsandboxed,
      verifyCi: settings.verifyCi,
      allowInstallNetwork: settings.allowInstallNetwork,
    };
    const offline = planRun(settings.goal, planOptions);
    const recordPlan = (
      plan: TaskPacketInput[],
      extra: { source?: "offline" | "model"; model?: string; rationale?: string } = {},
    ) =>
      ledger.record(RunPlanned, {
        runId,
        actor: "orchestrator",
        payload: {
          ...extra,
          tasks: validatePlan(plan, new Set(plan.map((t) => t.capability))).map((t) => ({
            id: t.id,
            kind: t.kind,
            capability: t.capability,
            dependsOn: t.dependsOn,
          })),
        },
      });
    const userSets = await Promise.all(settings.policies.map((f) => loadPolicyFile(f)));
    const packSets = packs.flatMap((p) => p.policy ? [p.policy] : []);
    const policy = new PolicyEngine(tailoredPreset(settings.autonomy, [...userSets, ...packSets]), {
      onDecision: recordDecisions(ledger, runId),
    });

    let plannedBy: RunResult["plannedBy"] = { source: "offline" };
    const spend: ModelSpend = {
      calls: 0,
      inputTokens: 0,
      outputTokens: 0,
      costUsd: 0,
      byModel: {},
    };
    const byTask = new Map<string, { tokens: number; costUsd: number; model: string | null }>();
    const onProgress = hooks.onProgress &&
      ((p: Progress) =>
        hooks.onProgress!(
          settings.llm
            ? {
              ...p,
              spend: {
                calls: spend.calls,
                tokens: spend.inputTokens + spend.outputTokens,
                costUsd: spend.costUsd,
              },
            }
            : p,
        ));
    /** Plans (with the model, when there is one) and runs the plan on a team. */
    const work = async (
      system: ActorSystem,
      agents: AgentFactory,
      health: HealthMonitor,
      where: { supervisor?: string; prefix: string; scratch: string },
    ): Promise<RunOutcome> => {
      const run = (plan: TaskPacketInput[]) =>
        new Orchestrator({
          system,
          ledger,
          runId,
          agents,
          health,
          completed: this.completed,
          signal,
          onProgress,
          onApprovalNeeded: hooks.onApprovalNeeded,
        }).run(plan);
      if (!settings.llm) {
        await recordPlan(offline);
        return await run(offline);
      }
      const gateway = `${where.prefix}llm`;
      // The router's ranking: models ordered by their record on each kind of task (lessons of
      // past runs), by Thompson sampling; seeded when the configuration says so.
      const random = seededRandom(
        settings.llm.seed ?? crypto.getRandomValues(new Uint32Array(1))[0],
      );
      const candidates = [...new Set(settings.llm.providers.flatMap((p) => p.models))];
      const preferFor = async (kind: string) =>
        rankModels(candidates, await modelRecords(ledger, kind), random);
      // Privacy is policy: where sending the repository to a model is not allowed outright (a
      // deny, or an approval no one is there to give), only local providers see it.
      const privacy = policy.decide({
        action: "llm.call",
        actor: "planner",
        resource: settings.repo,
      });
      const localOnly = !["allow", "log", "alert"].includes(privacy.effect);
      if (localOnly) {
        hooks.onNews?.(
          `the repository is private to models (${privacy.reason}); only local providers are asked`,
        );
      }
      const replay = settings.replayModels
        ? {
          from: settings.replayModels,
          answers: await recordedAnswers(ledger, settings.replayModels),
        }
        : undefined;
      await system.spawn(
        gatewaySpec(gateway, settings.llm, replay),
        where.supervisor ? { supervisor: where.supervisor } : {},
      );
      const stop = system.subscribe(LLM_CALLS_TOPIC, (m) => {
        const record = m as LlmCallRecord;
        if (record.runId !== runId) return;
        const model = record.responseModel ?? record.model;
        const by = spend.byModel[model] ??= {
          calls: 0,
          inputTokens: 0,
          outputTokens: 0,
          costUsd: 0,
        };
        for (const s of [spend, by]) {
          s.calls++;
          s.inputTokens += record.inputTokens;
          s.outputTokens += record.outputTokens;
          s.costUsd += record.costUsd;
        }
        if (record.taskId) {
          const t = byTask.get(record.taskId) ?? { tokens: 0, costUsd: 0, model: null };
          t.tokens += record.inputTokens + record.outputTokens;
          t.costUsd += record.costUsd;
          if (record.outcome === "ok") t.model = model;
          byTask.set(record.taskId, t);
        }
        ledger.record(LlmCall, { runId, actor: gateway, payload: record }).catch((err) =>
          hooks.onNews?.(`could not record a model call: ${err.message}`)
        );
      });
      try {
        // First the facts the model plans from, then its plan for the rest.
        const facts = offline.filter((t) => FACT_TASKS.includes(t.id));
        await recordPlan(facts);
        const first = await run(facts);
        if (first.dead.length > 0 || signal.aborted) return first;
        for (const [id, output] of first.outputs) this.completed.set(id, output);
        // How much the model's tasks ask, by the repository's size: the router's rules read it.
        const files = (first.outputs.get("scan") as RepoFacts["scan"] | undefined)?.files.length ??
          0;
        const complexity = repoComplexity(files);
        /** A step done with the model: the coder's or the test writer's, on the scratch copy. */
        const modelStep = async (kind: "code" | "write_tests"): Promise<TaskPacketInput> => ({
          id: kind,
          kind,
          capability: TASK_KINDS[kind].capability,
          dependsOn: ["scan", "detect"],
          inputs: {
            goal: settings.goal,
            repo: settings.repo,
            scratch: where.scratch,
            gateway,
            runId,
            localOnly,
            unsandboxed: settings.unsandboxed,
            prefer: await preferFor(kind),
            complexity,
            maxAttempts: 3,
          } satisfies PlannedInputsOf<typeof kind>,
          timeoutMs: 3_600_000,
          retry: { maxAttempts: 1 },
          risk: "medium",
        });
        const planPrefer = await preferFor("plan");
        const proposal = await planWithModel({
          goal: settings.goal,
          facts: {
            scan: first.outputs.get("scan") as RepoFacts["scan"],
            detect: first.outputs.get("detect") as RepoFacts["detect"],
            assess: first.outputs.get("assess") as RepoFacts["assess"],
          },
          steps: [
            ...planRun("propose hardening", planOptions),
            await modelStep("code"),
            await modelStep("write_tests"),
          ],
          done: FACT_TASKS,
          capabilities: new Set(agents.capabilities()),
          lessons: (await findLessons(
            ledger,
            settings.goal,
            5,
            settings.llm.embeddings
              ? await LocalEmbedder.load(settings.llm.embeddings.modelDir)
              : undefined,
          )).map((l) =>
            `${l.kind} by ${l.model ?? l.agent ?? "?"} ${l.outcome}` +
            (l.errorClass ? ` (${l.errorClass})` : "") + ` for "${l.goal}"`
          ),
          ask: (messages) =>
            system.ref(gateway).ask<GatewayReply>({
              type: "chat",
              role: "planner",
              messages,
              json: true,
              localOnly,
              complexity,
              prefer: planPrefer,
              runId,
              taskId: "plan",
            }, { timeoutMs: 600_000 }),
          onAttempt: (a) =>
            void ledger.record(PlanAttempted, { runId, actor: "planner", payload: a }),
        });
        let plan = offline;
        if ("fallback" in proposal) {
          await ledger.record(PlanFallback, {
            runId,
            actor: "planner",
            payload: { reason: proposal.fallback },
          });
          hooks.onNews?.(
            `planning with the model failed (${proposal.fallback}); ` +
              "the offline plan runs instead",
          );
          plannedBy = { source: "offline", fallback: proposal.fallback };
          await recordPlan(offline);
        } else {
          plan = proposal.plan;
          plannedBy = { source: "model", model: proposal.model };
          await recordPlan(plan, {
            source: "model",
            model: proposal.model,
            ...(proposal.rationale ? { rationale: proposal.rationale } : {}),
          });
        }
        return await run(plan);
      } finally {
        stop();
      }
    };

    let outcome: RunOutcome;
    const shared = hooks.system;
    if (shared) {
      const { supervisor, prefix, owns: mine } = teamOf(runId);
      // Disposed in reverse: the team leaves the system, then its recording stops.
      await using _recording = recording(
        recordSystem(shared, ledger, { runId, actors: mine }),
      );
      await using _team = {
        [Symbol.asyncDispose]: async () => void await shared.remove(supervisor),
      };
      await using agents = await startTeam(
        shared,
        settings.repo,
        {
          maxAgents: this.options.maxAgents,
          supervisor,
          prefix,
        },
        scratch,
        !!settings.llm,
      );
      using own = hooks.health ? undefined : new HealthMonitor(shared);
      outcome = await work(shared, agents, hooks.health ?? own!, { supervisor, prefix, scratch });
    } else {
      // Disposed in reverse: the monitor, the pools, the system, then the recording of its
      // events, so that the system's last events are in the ledger too.
      const system = await ActorSystem.start();
      await using _recording = recording(recordSystem(system, ledger, { runId }));
      await using _system = system;
      await using agents = await startTeam(
        system,
        settings.repo,
        {
          maxAgents: this.options.maxAgents,
        },
        scratch,
        !!settings.llm,
      );
      using health = new HealthMonitor(system);
      outcome = await work(system, agents, health, { prefix: "", scratch });
    }

    if (settings.llm) await this.#learn(outcome, plannedBy, byTask);
    const { report, files } = buildReport(
      runId,
      settings.goal,
      settings.repo,
      outcome,
      settings.llm ? spend : undefined,
    );
    await writeOutputs(settings.out, settings.repo, report, files);
    let applied: string[] = [];
    let refused: string | undefined;
    if (settings.apply && !signal.aborted) {
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
        policy,
        desk,
        signal,
        onApprovalNeeded: hooks.onApprovalNeeded,
        onNews: hooks.onNews,
      }));
    }
    const cancelled = signal.aborted ? String(signal.reason ?? "cancelled") : undefined;
    await ledger.record(RunFinished, {
      runId,
      actor: "orchestrator",
      payload: {
        dead: outcome.dead.length,
        skipped: outcome.skipped.length,
        applied,
        ...(refused ? { refused } : {}),
        ...(cancelled ? { cancelled } : {}),
      },
    });
    return {
      runId,
      settings,
      report,
      files,
      outcome,
      applied,
      ...(refused ? { refused } : {}),
      ...(cancelled ? { cancelled } : {}),
      plannedBy,
      ok: outcome.dead.length === 0 && !refused && !cancelled,
    };
  }
}

/** The system recorder's detach as something `await using` can dispose. */
function recording(detach: () => Promise<void>): AsyncDisposable {
  return { [Symbol.asyncDispose]: detach };
}
