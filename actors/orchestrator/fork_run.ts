import { join, resolve } from "node:path";
import { z } from "zod";
import type { Ledger } from "../../ledger/mod.ts";
import { loadPolicyFile } from "../../policies/mod.ts";
import { parseOrThrow, TroupeError } from "../../runtime/errors.ts";
import { LlmConfig, providerProblems } from "../llm/llm_config.ts";
import { recoverRun } from "./recover_run.ts";
import { type RunSettings, RunStarted, TaskStarted, TaskSucceeded } from "./run_events.ts";
import { ResumeOptions, type RunEnvironment, RunRequest } from "./run_request.ts";
import { newRunId } from "./new_run.ts";
import { RunSession } from "./run_session.ts";

/** What a fork changes: where it starts, and what it does differently from there. */
export const ForkRequest = z.strictObject({
  /** A task id of the parent (the fork does it again, and what came after), or an event seq. */
  at: z.string().min(1),
  goal: z.string().min(1).optional(),
  llm: LlmConfig.optional(),
  policies: z.array(z.string().min(1)).optional(),
  autonomy: z.number().int().min(1).max(5).optional(),
  out: z.string().min(1).optional(),
  outRoot: RunRequest.shape.outRoot,
  /** What a server confines a remote fork to, whatever the parent did. */
  apply: z.boolean().optional(),
  unsandboxed: z.literal(false).optional(),
  allowInstallNetwork: z.boolean().optional(),
  /** Only the models given (`llm`), or none: never the parent's own providers. */
  ownModelsOnly: z.boolean().default(false),
  ...ResumeOptions.shape,
});
/** A fork request as written. */
export type ForkRequest = z.input<typeof ForkRequest>;

/**
 * A new run that shares run `parentId`'s history up to a point and goes on live from there with
 * the changes asked: the parent's tasks finished before the point are reused (recorded in the
 * fork as `task_succeeded` with `forkedFrom`, so `--resume` and reports read them as any run's),
 * and its model answers before the point are given again without asking a model (the gateway's
 * prefix). The fork names its parent and point in its `run_started`; forks of forks work alike.
 */
export async function forkRun(
  ledger: Ledger,
  parentId: string,
  input: ForkRequest,
  hooks: RunEnvironment = {},
): Promise<RunSession> {
  const request = parseOrThrow(ForkRequest, input, "fork request");
  const parent = await recoverRun(ledger, parentId);
  if (!parent) {
    throw new TroupeError("not_found", `no run "${parentId}" to fork in ${ledger.path}`, {
      runId: parentId,
    });
  }
  const seq = await forkPoint(ledger, parentId, request.at);
  const policies = request.policies?.map((f) => resolve(f)) ?? parent.settings.policies;
  for (const f of policies) await loadPolicyFile(f);
  const llm = request.llm ?? (request.ownModelsOnly ? undefined : parent.settings.llm);
  const problems = llm ? providerProblems(LlmConfig.parse(llm), (n) => Deno.env.get(n)) : [];
  if (problems.length > 0) {
    throw new TroupeError(
      "invalid_spec",
      `the model configuration cannot be used: ${problems.join("; ")}`,
    );
  }
  const runId = newRunId();
  const { replayModels: _, llm: __, ...inherited } = parent.settings;
  const settings: RunSettings = {
    ...inherited,
    goal: request.goal ?? parent.settings.goal,
    autonomy: request.autonomy ?? parent.settings.autonomy,
    policies,
    ...(request.apply !== undefined ? { apply: request.apply } : {}),
    ...(request.unsandboxed === false ? { unsandboxed: false } : {}),
    ...(request.allowInstallNetwork !== undefined
      ? { allowInstallNetwork: request.allowInstallNetwork }
      : {}),
    ...(llm ? { llm: LlmConfig.parse(llm) } : {}),
    out: resolve(request.out ?? join(request.outRoot, runId)),
    date: new Date().toISOString().slice(0, 10),
    forkOf: { runId: parentId, at: request.at, seq },
  };
  await ledger.record(RunStarted, { runId, actor: "orchestrator", payload: settings });
  // Appended together, in order, so that they share commits.
  const reused: Promise<unknown>[] = [];
  for await (const e of ledger.events([TaskSucceeded], { runId: parentId })) {
    if (e.seq >= seq) break;
    reused.push(ledger.record(TaskSucceeded, {
      runId,
      actor: e.actor,
      payload: { ...e.payload, forkedFrom: parentId },
    }));
  }
  await Promise.all(reused);
  const { maxAgents, keys, approvals } = request;
  return await RunSession.resume(ledger, runId, { maxAgents, keys, approvals }, hooks);
}

/** The parent's event seq a fork starts at: a number as given, or where a task first started. */
async function forkPoint(ledger: Ledger, parentId: string, at: string): Promise<number> {
  if (/^\d+$/.test(at)) return Number(at);
  const tasks: string[] = [];
  for await (const e of ledger.events([TaskStarted], { runId: parentId })) {
    if (e.payload.taskId === at) return e.seq;
    if (!tasks.includes(e.payload.taskId)) tasks.push(e.payload.taskId);
  }
  throw new TroupeError(
    "invalid_spec",
    `run ${parentId} never started a task "${at}"; fork at one of its tasks ` +
      `(${tasks.join(", ") || "none"}) or at an event seq`,
    { runId: parentId },
  );
}
