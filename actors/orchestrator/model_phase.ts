import { context } from "@opentelemetry/api";
import type { Ledger } from "../../ledger/mod.ts";
import type { PolicyEngine } from "../../policies/mod.ts";
import { seededRandom } from "../../runtime/mod.ts";
import { type LlmConfig, repoComplexity } from "../llm/llm_config.ts";
import {
  type GatewayReply,
  gatewaySpec,
  LLM_CALLS_TOPIC,
  type LlmCallRecord,
} from "../llm/llm_gateway.ts";
import {
  LlmCall,
  PlanAttempted,
  PlanFallback,
  recordedAnswers,
  recordedToolCalls,
  spentSoFar,
} from "../llm/llm_events.ts";
import { findLessons, modelRecords, rankModels } from "../llm/lessons.ts";
import { LocalEmbedder } from "../llm/local_embedder.ts";
import { planWithModel, type RepoFacts } from "../planning/model_task_planner.ts";
import { planRun, type RunOptions } from "../planning/offline_task_planner.ts";
import { chatSpan } from "../tasks/run_trace.ts";
import { type PlannedInputsOf, TASK_KINDS } from "../tasks/task_kinds.ts";
import type { TaskPacketInput } from "../tasks/task_packet.ts";
import type { RunOutcome } from "./orchestrator.ts";
import type { RunSettings } from "./run_events.ts";
import type { PlannedBy } from "./run_request.ts";
import type { SpendMeter } from "./run_spend.ts";
import type { RunTeam } from "./run_team.ts";
import { toolDeskSpec } from "./tool_desk.ts";
import { answerAfterReading } from "../agents/kit/tool_loop.ts";
import { Workspace } from "../agents/kit/workspace_tools.ts";
import type { Detection } from "../tasks/repo_facts.ts";

/** The tasks whose outputs a model plans from. */
export const FACT_TASKS = ["scan", "detect", "assess"];

/** What the model phase works with: the run, its team, and how to run and record a plan. */
export interface ModelPhase {
  ledger: Ledger;
  runId: string;
  settings: RunSettings & { llm: LlmConfig };
  policy: PolicyEngine;
  team: RunTeam;
  /** Copies of the repository for the coder and the test writer. */
  scratch: string;
  planOptions: RunOptions;
  /** The offline plan: run when the model gives no usable plan. */
  offline: TaskPacketInput[];
  completed: Map<string, unknown>;
  /** Answer model and tool calls from this run's recording (`--replay-models`, a replay). */
  replayFrom?: string;
  spend: SpendMeter;
  signal: AbortSignal;
  run(plan: TaskPacketInput[]): Promise<RunOutcome>;
  recordPlan(
    plan: TaskPacketInput[],
    by?: { source?: "offline" | "model"; model?: string; rationale?: string },
  ): Promise<unknown>;
  onNews?(text: string): void;
}

/**
 * A run with a model: the gateway joins the team, the facts are gathered, the model plans the
 * rest from them (the offline plan runs when it gives no usable plan), and the plan runs. Every
 * model call is recorded and added to the run's spend.
 */
export async function runWithModel(
  p: ModelPhase,
): Promise<{ outcome: RunOutcome; plannedBy: PlannedBy }> {
  const { ledger, runId, settings, team, spend } = p;
  const gateway = `${team.prefix}llm`;
  // The router's ranking: models ordered by their record on each kind of task (lessons of past
  // runs), by Thompson sampling; seeded when the configuration says so.
  const random = seededRandom(
    settings.llm.seed ?? settings.seed ?? crypto.getRandomValues(new Uint32Array(1))[0],
  );
  const candidates = [...new Set(settings.llm.providers.flatMap((x) => x.models))];
  const preferFor = async (kind: string) =>
    rankModels(candidates, await modelRecords(ledger, kind), random);
  // Privacy is policy: where sending the repository to a model is not allowed outright (a deny,
  // or an approval no one is there to give), only local providers see it.
  const privacy = p.policy.decide({
    action: "llm.call",
    actor: "planner",
    resource: settings.repo,
  });
  const localOnly = !["allow", "log", "alert"].includes(privacy.effect);
  const privateTo = localOnly ? { localOnly: privacy.reason } : {};
  if (localOnly) {
    p.onNews?.(
      `the repository is private to models (${privacy.reason}); only local providers are asked`,
    );
  }
  const replayFrom = p.replayFrom ?? settings.replayModels;
  const recorded = replayFrom ? await recordedAnswers(ledger, replayFrom) : [];
  // A fork reuses what its parent's models answered before the fork point; a fork done again
  // (`replay --verify`) reuses them as it did, and its own answers from its record.
  const fork = settings.forkOf;
  const reused = (a: { replayedFrom?: string }) =>
    !!p.replayFrom && !!fork && a.replayedFrom === fork.runId;
  const replay = replayFrom
    ? { from: replayFrom, answers: recorded.filter((a) => !reused(a)) }
    : undefined;
  const prefix = !fork
    ? undefined
    : p.replayFrom
    ? { from: fork.runId, answers: recorded.filter(reused) }
    : !replay
    ? { from: fork.runId, answers: await recordedAnswers(ledger, fork.runId, fork.seq) }
    : undefined;
  await team.system.spawn(
    gatewaySpec(gateway, settings.llm, replay, await spentSoFar(ledger, runId), prefix),
    team.supervisor ? { supervisor: team.supervisor } : {},
  );
  // Every tool call of the coder is decided and recorded here, on the run's own thread.
  const toolDesk = `${team.prefix}tools`;
  await team.system.spawn(
    toolDeskSpec(toolDesk, {
      ledger,
      runId,
      policy: p.policy,
      mcp: settings.llm.mcp,
      ...(replayFrom
        ? {
          replay: {
            from: replayFrom,
            calls: await recordedToolCalls(ledger, replayFrom),
            agentsReplay: !!p.replayFrom,
          },
        }
        : {}),
      onNews: p.onNews,
    }),
    team.supervisor ? { supervisor: team.supervisor } : {},
  );
  const stop = team.system.subscribe(LLM_CALLS_TOPIC, (m) => {
    const record = m as LlmCallRecord;
    if (record.runId !== runId) return;
    spend.add(record);
    // Published inside the asking agent's trace context: the call's span goes under it.
    const [parent, end] = [context.active(), Date.now()];
    ledger.record(LlmCall, { runId, actor: gateway, payload: record }).then(
      ({ seq }) => chatSpan(record, seq, parent, end),
      (err) => p.onNews?.(`could not record a model call: ${err.message}`),
    );
  });
  try {
    // First the facts the model plans from, then its plan for the rest.
    const facts = p.offline.filter((t) => FACT_TASKS.includes(t.id));
    await p.recordPlan(facts);
    const first = await p.run(facts);
    if (first.dead.length > 0 || p.signal.aborted) {
      return { outcome: first, plannedBy: { source: "offline", ...privateTo } };
    }
    for (const [id, output] of first.outputs) p.completed.set(id, output);
    // How much the model's tasks ask, by the repository's size: the router's rules read it.
    const files = (first.outputs.get("scan") as RepoFacts["scan"] | undefined)?.files.length ?? 0;
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
        scratch: p.scratch,
        gateway,
        toolDesk,
        runId,
        localOnly,
        unsandboxed: settings.unsandboxed,
        homeToolchains: settings.homeToolchains,
        prefer: await preferFor(kind),
        complexity,
        maxAttempts: 3,
      } satisfies PlannedInputsOf<typeof kind>,
      timeoutMs: 3_600_000,
      retry: { maxAttempts: 1 },
      risk: "medium",
    });
    const planPrefer = await preferFor("plan");
    // The planner runs no tests: only the reading tools are offered it.
    const detection = first.outputs.get("detect") as Detection;
    const embedder = settings.llm.embeddings
      ? await LocalEmbedder.load(settings.llm.embeddings.modelDir)
      : undefined;
    const proposal = await planWithModel({
      goal: settings.goal,
      facts: {
        scan: first.outputs.get("scan") as RepoFacts["scan"],
        detect: first.outputs.get("detect") as RepoFacts["detect"],
        assess: first.outputs.get("assess") as RepoFacts["assess"],
      },
      steps: [
        ...planRun("propose hardening", p.planOptions),
        await modelStep("code"),
        await modelStep("write_tests"),
      ],
      done: FACT_TASKS,
      capabilities: new Set(team.agents.capabilities()),
      // What went before on work like this: the model steps and the plan, not the facts, which
      // every run gathers the same way.
      lessons: (await findLessons(ledger, settings.goal, 50, embedder)).filter((l) =>
        !FACT_TASKS.includes(l.kind) && l.outcome !== "skipped"
      ).slice(0, 5).map((l) =>
        `${l.kind} by ${l.model ?? l.agent ?? "?"} ${l.outcome}` +
        (l.errorClass ? ` (${l.errorClass})` : "") + ` for "${l.goal}"`
      ),
      // The planner may read the repository (list, read, search) before it answers.
      ask: (messages, avoid) =>
        answerAfterReading(
          messages,
          {
            ask: (talk, tools) =>
              team.system.ref(gateway).ask<GatewayReply>({
                type: "chat",
                role: "planner",
                messages: talk,
                tools,
                json: true,
                localOnly,
                complexity,
                prefer: planPrefer,
                avoid,
                runId,
                taskId: "plan",
              }, { timeoutMs: 600_000 }),
            desk: (m) => team.system.ref(toolDesk).ask(m, { timeoutMs: 60_000 }),
          },
          new Workspace(settings.repo, detection, 60_000, {}),
          {
            runId,
            taskId: "plan",
            role: "planner",
          },
        ),
      onAttempt: (a) => void ledger.record(PlanAttempted, { runId, actor: "planner", payload: a }),
    });
    if ("fallback" in proposal) {
      await ledger.record(PlanFallback, {
        runId,
        actor: "planner",
        payload: { reason: proposal.fallback },
      });
      p.onNews?.(
        `planning with the model failed (${proposal.fallback}); the offline plan runs instead`,
      );
      await p.recordPlan(p.offline);
      return {
        outcome: await p.run(p.offline),
        plannedBy: { source: "offline", fallback: proposal.fallback, ...privateTo },
      };
    }
    await p.recordPlan(proposal.plan, {
      source: "model",
      model: proposal.model,
      ...(proposal.rationale ? { rationale: proposal.rationale } : {}),
    });
    return {
      outcome: await p.run(proposal.plan),
      plannedBy: { source: "model", model: proposal.model, ...privateTo },
    };
  } finally {
    stop();
  }
}
