import { join } from "node:path";
import type { Detection } from "../../tasks/repo_facts.ts";
import { runSandboxed, type SandboxMode } from "./repo_sandbox.ts";

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
