import { join, resolve } from "node:path";
import type { z } from "zod";
import type { Ledger } from "../../ledger/mod.ts";
import { BUILTIN_PACKS, loadCompliancePack, loadPolicyFile } from "../../policies/mod.ts";
import { parseOrThrow, TroupeError } from "../../runtime/errors.ts";
import { homeToolchains } from "../agents/kit/repo_sandbox.ts";
import { LlmConfig, providerProblems } from "../llm/llm_config.ts";
import { recordedAnswers } from "../llm/llm_events.ts";
import { recoverRun } from "./recover_run.ts";
import type { RunSettings } from "./run_events.ts";
import { RunRequest } from "./run_request.ts";

/** A new run's id: when it started, and a random tail. */
export function newRunId(): string {
  return `run-${new Date().toISOString().replace(/[-:T]/g, "").slice(0, 14)}-${
    crypto.randomUUID().slice(0, 8)
  }`;
}

/**
 * A new run from a request, checked before anything runs: the repository is a folder, the
 * policy files and packs load, a replayed run has answers to give, and the models' settings are
 * usable here (each problem named). Returns the run's id and the settings `run_started` holds.
 */
export async function newRun(
  ledger: Ledger,
  input: RunRequest,
): Promise<{ request: z.output<typeof RunRequest>; runId: string; settings: RunSettings }> {
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
  // Provider settings this environment completes (a base URL from OPENAI_BASE_URL) are
  // checked before anything runs, each problem named.
  const problems = llm && !request.replayModels
    ? providerProblems(LlmConfig.parse(llm), (name) => Deno.env.get(name))
    : [];
  if (problems.length > 0) {
    throw new TroupeError(
      "invalid_spec",
      `the model configuration cannot be used: ${problems.join("; ")}`,
    );
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
    apiDocs: request.apiDocs,
    ...(request.deploy
      ? { deploy: { ...request.deploy, root: resolve(request.deploy.root) } }
      : {}),
    allowInstallNetwork: request.allowInstallNetwork,
    homeToolchains: request.homeToolchains ? await homeToolchains() : [],
    seed: crypto.getRandomValues(new Uint32Array(1))[0] >>> 1,
    ...(llm ? { llm } : {}),
    ...(request.replayModels ? { replayModels: request.replayModels } : {}),
  };
  return { request, runId, settings };
}
