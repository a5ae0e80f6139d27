import { join } from "node:path";
import { defineAgent } from "../tasks/define_agent.ts";
import type { Detection, GeneratedFile } from "../tasks/repo_facts.ts";
import { copyTree } from "./kit/copy_tree.ts";
import { runTests } from "./kit/run_tests.ts";
import { type VerifiedCi, verifyCi } from "./kit/ci_verifier.ts";
import { ciFiles } from "./kit/ci_config.ts";
import { TASK_KINDS } from "../tasks/task_kinds.ts";

export default defineAgent(import.meta.url, TASK_KINDS, {
  // The proposed CI jobs' steps, run here before they are proposed (`--verify-ci`).
  // A job repaired here is proposed as repaired: the generated CI files are made again from it.
  verify_ci: async (inputs, deps): Promise<VerifiedCi> => {
    const detection = deps.detect as Detection;
    const { jobs, projects } = await verifyCi(
      inputs.repo,
      inputs.scratch,
      detection,
      {
        unsandboxed: inputs.unsandboxed,
        homeToolchains: inputs.homeToolchains,
        allowInstallNetwork: inputs.allowInstallNetwork,
        timeoutMs: inputs.timeoutMs,
      },
    );
    const generated = (deps.generate_ci as GeneratedFile[] | undefined) ?? [];
    const files = jobs.some((j) => j.repairs.length > 0)
      ? ciFiles({ ...detection, projects })
        .filter((f) => generated.some((g) => g.path === f.path))
        .map((f) => ({ ...f, reason: `${f.reason} (repaired after verification)` }))
      : [];
    return { jobs, files };
  },
  // The tests run in a scratch copy: the sandbox lets them write nowhere else.
  test: async (inputs, deps) => {
    const copy = join(inputs.scratch, "run-tests");
    await Deno.remove(copy, { recursive: true }).catch(() => {});
    await copyTree(inputs.repo, copy);
    return await runTests(copy, deps.detect as Detection, inputs.timeoutMs, {
      unsandboxed: inputs.unsandboxed,
      homeToolchains: inputs.homeToolchains,
    }, { coverage: true });
  },
});
