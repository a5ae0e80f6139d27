import { join } from "node:path";
import { defineAgent } from "../orchestrator/define_agent.ts";
import type { Detection, GeneratedFile } from "./repo_facts.ts";
import { copyTree } from "./kit/copy_tree.ts";
import { runTests } from "./kit/run_tests.ts";
import { type VerifiedCi, verifyCi } from "./ci_verifier.ts";
import { ciFiles } from "./ci_config.ts";

export default defineAgent({
  // The proposed CI jobs' steps, run here before they are proposed (`--verify-ci`).
  // A job repaired here is proposed as repaired: the generated CI files are made again from it.
  verify_ci: async (inputs, deps): Promise<VerifiedCi> => {
    const detection = deps.detect as Detection;
    const { jobs, projects } = await verifyCi(
      String(inputs.repo),
      String(inputs.scratch),
      detection,
      {
        unsandboxed: inputs.unsandboxed === true,
        allowInstallNetwork: inputs.allowInstallNetwork === true,
        timeoutMs: Number(inputs.timeoutMs ?? 600_000),
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
    const copy = join(String(inputs.scratch), "run-tests");
    await Deno.remove(copy, { recursive: true }).catch(() => {});
    await copyTree(String(inputs.repo), copy);
    return await runTests(copy, deps.detect as Detection, Number(inputs.timeoutMs ?? 300_000), {
      unsandboxed: inputs.unsandboxed === true,
    });
  },
});
