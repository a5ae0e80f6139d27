import { join } from "node:path";
import { defineAgent } from "../orchestrator/define_agent.ts";
import type { Detection } from "./repo_facts.ts";

/**
 * Runs each project's own test command with a time limit. The command runs through `sh`, the
 * only program this agent may start, with an environment of PATH and HOME only.
 */
export async function runTests(root: string, detection: Detection, timeoutMs: number) {
  const results = [];
  for (const p of detection.projects.filter((p) => p.test)) {
    const t0 = performance.now();
    const child = new Deno.Command("sh", {
      args: ["-c", p.test!],
      cwd: join(root, p.dir),
      clearEnv: true,
      env: { PATH: "/usr/local/bin:/usr/bin:/bin", HOME: "/tmp" },
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(timeoutMs),
    });
    let code: number | null = null;
    let output = "";
    let timedOut = false;
    try {
      const r = await child.output();
      code = r.code;
      output = new TextDecoder().decode(r.stdout) + new TextDecoder().decode(r.stderr);
    } catch (err) {
      timedOut = (err as Error).name === "AbortError";
      output = (err as Error).message;
    }
    results.push({
      project: `${p.type} ${p.dir}`,
      command: p.test!,
      passed: code === 0,
      code,
      timedOut,
      durationMs: Math.round(performance.now() - t0),
      tail: output.slice(-2000),
    });
  }
  return results;
}

export default defineAgent({
  test: (inputs, deps) =>
    runTests(String(inputs.repo), deps.detect as Detection, Number(inputs.timeoutMs ?? 300_000)),
});
