import { join } from "node:path";
import { defineAgent } from "../orchestrator/define_agent.ts";
import type { Detection } from "./repo_facts.ts";
import { runSandboxed, type SandboxMode } from "./repo_sandbox.ts";
import { copyTree } from "./coder.ts";
import { verifyCi } from "./ci_verifier.ts";

/**
 * Runs each project's own test command with a time limit, in `root` (a scratch copy), inside the
 * repository sandbox (bubblewrap; see `repo_sandbox.ts`): the project's code is untrusted.
 */
export async function runTests(
  root: string,
  detection: Detection,
  timeoutMs: number,
  mode: SandboxMode = {},
) {
  const results = [];
  for (const p of detection.projects.filter((p) => p.test)) {
    const r = await runSandboxed(join(root, p.dir), p.test!, mode, timeoutMs);
    results.push({
      project: `${p.type} ${p.dir}`,
      command: p.test!,
      passed: r.code === 0,
      code: r.code,
      timedOut: r.timedOut,
      durationMs: r.durationMs,
      tail: r.output.slice(-2000),
    });
  }
  return results;
}

export default defineAgent({
  // The proposed CI jobs' steps, run here before they are proposed (`--verify-ci`).
  verify_ci: (inputs, deps) =>
    verifyCi(String(inputs.repo), String(inputs.scratch), deps.detect as Detection, {
      unsandboxed: inputs.unsandboxed === true,
      allowInstallNetwork: inputs.allowInstallNetwork === true,
      timeoutMs: Number(inputs.timeoutMs ?? 600_000),
    }),
  // The tests run in a scratch copy: the sandbox lets them write nowhere else.
  test: async (inputs, deps) => {
    const copy = join(String(inputs.scratch), "run-tests");
    await Deno.remove(copy, { recursive: true }).catch(() => {});
    await copyTree(String(inputs.repo), copy);
    return await runTests(copy, deps.detect as Detection, Number(inputs.timeoutMs ?? 300_000), {
      unsandboxed: inputs.unsandboxed === true,
    });
  },
});
