import { join } from "node:path";
import type { Detection, Project } from "./repo_facts.ts";
import { runSandboxed, type SandboxMode } from "./repo_sandbox.ts";
import { copyTree } from "./coder.ts";

/** One step of a proposed CI job, run here. */
export interface StepResult {
  name: string;
  command: string;
  /** `passed`, `failed`, or `not run` (with why: a missing tool, the network, an earlier failure). */
  outcome: "passed" | "failed" | "not run";
  why?: string;
  tail?: string;
  durationMs?: number;
}

/** How a proposed job fared when its steps ran here. */
export interface JobVerification {
  job: string;
  dir: string;
  steps: StepResult[];
  /** `verified` (every step passed), `failed`, or `unverified` (some step could not run here). */
  verdict: "verified" | "failed" | "unverified";
}

const NETWORK =
  /ENOTFOUND|EAI_AGAIN|getaddrinfo|ECONNREFUSED|network is unreachable|Could not resolve host|Temporary failure in name resolution/i;

/** The steps a generated job runs, in order (the same list the CI files are made from). */
function steps(p: Project): [string, string][] {
  return ([["Install", p.install], ["Build", p.build], ["Test", p.test]] as const)
    .filter((s) => s[1]) as [string, string][];
}

/**
 * Runs each proposed CI job's steps here, in a copy of the repository, inside the repository
 * sandbox: install steps without the network unless the user allowed it, and each step with a
 * time limit. A step whose tool is not on this machine, or that needed the network, is reported
 * as not run, with why; a job stops at its first failing step.
 */
export async function verifyCi(
  repo: string,
  scratch: string,
  detection: Detection,
  o: SandboxMode & { allowInstallNetwork?: boolean; timeoutMs?: number },
): Promise<JobVerification[]> {
  const out: JobVerification[] = [];
  for (const p of detection.projects) {
    const job = `${p.type}${p.dir === "." ? "" : `-${p.dir.replace(/[^A-Za-z0-9]+/g, "-")}`}`;
    const copy = join(scratch, "verify-ci", job);
    await Deno.remove(copy, { recursive: true }).catch(() => {});
    await copyTree(repo, copy);
    const results: StepResult[] = [];
    let stopped: string | undefined;
    for (const [name, command] of steps(p)) {
      if (stopped) {
        results.push({ name, command, outcome: "not run", why: stopped });
        continue;
      }
      const tool = command.split(/\s+/)[0];
      const mode = { ...o, network: name === "Install" && !!o.allowInstallNetwork };
      const probe = await runSandboxed(join(copy, p.dir), `command -v ${tool}`, mode, 10_000);
      if (probe.code !== 0) {
        // No exit code: nothing could run at all here (no sandbox), and the output says why.
        const why = probe.code === null && !probe.timedOut
          ? probe.output.split("\n")[0]
          : `${tool} is not installed here`;
        results.push({ name, command, outcome: "not run", why });
        stopped = `an earlier step could not run (${why})`;
        continue;
      }
      const r = await runSandboxed(join(copy, p.dir), command, mode, o.timeoutMs ?? 600_000);
      if (r.code === 0) {
        results.push({ name, command, outcome: "passed", durationMs: r.durationMs });
      } else if (!mode.network && NETWORK.test(r.output)) {
        const why = "it needs the network (allow it with --allow-install-network)";
        results.push({ name, command, outcome: "not run", why, tail: r.output.slice(-1500) });
        stopped = `an earlier step could not run (${why})`;
      } else {
        results.push({
          name,
          command,
          outcome: "failed",
          why: r.timedOut ? "it ran past its time limit" : `exit ${r.code}`,
          tail: r.output.slice(-1500),
          durationMs: r.durationMs,
        });
        stopped = `${name} failed`;
      }
    }
    const verdict = results.some((s) => s.outcome === "failed")
      ? "failed"
      : results.every((s) => s.outcome === "passed")
      ? "verified"
      : "unverified";
    out.push({ job, dir: p.dir, steps: results, verdict });
  }
  return out;
}
