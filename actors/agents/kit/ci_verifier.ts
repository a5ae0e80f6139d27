import { join } from "node:path";
import type { Detection, GeneratedFile, Project } from "../../tasks/repo_facts.ts";
import { runSandboxed, type SandboxMode, tailOf } from "./repo_sandbox.ts";
import { copyTree } from "./copy_tree.ts";
import { MACHINE, NETWORK } from "./not_here.ts";
import { commands, jobName } from "./ci_config.ts";
import { countReports, countTests, noTestWhy, type TestCount, testVerdict } from "./test_count.ts";

/** One step of a proposed CI job, run here. */
export interface StepResult {
  name: string;
  command: string;
  /**
   * `passed`, `failed`, `not run` (with why: a missing tool, the network, an earlier failure), or
   * for the Test step `ran no test` (it exited 0, but its runner reported no test run).
   */
  outcome: "passed" | "failed" | "not run" | "ran no test";
  why?: string;
  /** The Test step: what its runner reported. */
  tests?: TestCount;
  tail?: string;
  durationMs?: number;
}

/** A change made to a job whose failure was the workflow's fault, before it ran again. */
export interface Repair {
  step: string;
  problem: string;
  change: string;
}

/** How a proposed job fared when its steps ran here. */
export interface JobVerification {
  job: string;
  dir: string;
  steps: StepResult[];
  /**
   * `verified` (every step passed, and the tests ran at least one test with no failure),
   * `failed`, `ran no test` (every step passed, but no test ran), or `unverified` (some step could
   * not run here).
   */
  verdict: "verified" | "failed" | "unverified" | "ran no test";
  /** The repairs made before the last run of its steps, in order. */
  repairs: Repair[];
}

/** The proposed jobs as verified here, and the projects as repaired (the CI files' source). */
export interface CiVerification {
  jobs: JobVerification[];
  projects: Project[];
}

/** What the `verify_ci` step gives the reviewer and the report. */
export interface VerifiedCi {
  jobs: JobVerification[];
  /** The generated CI files made again from the repaired jobs; empty when nothing was repaired. */
  files: GeneratedFile[];
}

/** The CI files to propose: the generated ones, each replaced by its repaired version if any. */
export function proposedCiFiles(
  generated: GeneratedFile[] = [],
  verified?: VerifiedCi,
): GeneratedFile[] {
  return generated.map((f) => verified?.files.find((r) => r.path === f.path) ?? f);
}

/** At most this many repairs of one job, each followed by a run of all its steps. */
const MAX_REPAIRS = 2;

/**
 * The repair for a failure that is clearly the workflow's doing, not the code's: a lock-file
 * install the lock file does not allow, a test runner the install step left out. Anything else is
 * the project's to fix, and stays a failure.
 */
export function repairFor(
  p: Project,
  step: StepResult,
  out: string,
): { project: Project; repair: Repair } | undefined {
  const fix = (problem: string, change: string, changes: Partial<Project>) => ({
    project: { ...p, ...changes },
    repair: { step: step.name, problem, change },
  });
  if (step.name === "Install" && p.install === "npm ci" && /npm ci` can only install/.test(out)) {
    return fix(
      "npm ci refused package-lock.json: it is out of step with package.json",
      "install with npm install (bring package-lock.json up to date to go back to npm ci)",
      { install: "npm install" },
    );
  }
  if (step.name === "Install" && /ERR_PNPM_OUTDATED_LOCKFILE/.test(out)) {
    return fix(
      "pnpm refused pnpm-lock.yaml: it is out of step with package.json",
      "install with pnpm install --no-frozen-lockfile (update the lock file to freeze it again)",
      { install: "pnpm install --no-frozen-lockfile" },
    );
  }
  if (
    step.name === "Test" && p.type === "python" && !/pytest/.test(p.install ?? "") &&
    /No module named pytest|pytest: (command )?not found/.test(out)
  ) {
    return p.packageManager === "uv"
      ? fix("pytest is not installed by uv sync", "run the tests with uv run --with pytest", {
        test: "uv run --with pytest pytest",
      })
      : fix("pytest is not installed by the install step", "install pytest with the project", {
        install: p.install ? `${p.install} pytest` : "pip install pytest",
      });
  }
  return undefined;
}

/** The folder, in the job's copy, of the virtual environment a Python job runs in. */
const VENV = ".troupe-venv";
/** Runs a command with the virtual environment first on PATH, as setup-python's Python is. */
const inVenv = (command: string) =>
  `export VIRTUAL_ENV="$PWD/${VENV}" PATH="$PWD/${VENV}/bin:$PATH"; ${command}`;

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
): Promise<CiVerification> {
  const jobs: JobVerification[] = [];
  const projects: Project[] = [];
  for (const original of detection.projects) {
    let p = original;
    const repairs: Repair[] = [];
    let run = await runJob(repo, scratch, p, o);
    for (let n = 0; n < MAX_REPAIRS; n++) {
      const failed = run.results.find((r) => r.outcome === "failed");
      const repaired = failed && repairFor(p, failed, run.failedOutput ?? "");
      if (!repaired) break;
      repairs.push(repaired.repair);
      p = repaired.project;
      run = await runJob(repo, scratch, p, o);
    }
    const results = run.results;
    const ran = results.find((s) => s.name === "Test");
    const verdict = results.some((s) => s.outcome === "failed")
      ? "failed"
      : results.some((s) => s.outcome === "not run")
      ? "unverified"
      : ran?.outcome === "passed"
      ? "verified"
      : "ran no test";
    jobs.push({ job: jobName(p), dir: p.dir, steps: results, verdict, repairs });
    projects.push(p);
  }
  return { jobs, projects };
}

/**
 * One job's steps, in a fresh copy of the repository; the job stops at its first failure, whose
 * whole output is kept for the repairs to read (the report keeps only its tail).
 */
async function runJob(
  repo: string,
  scratch: string,
  p: Project,
  o: SandboxMode & { allowInstallNetwork?: boolean; timeoutMs?: number },
): Promise<{ results: StepResult[]; failedOutput?: string }> {
  let failedOutput: string | undefined;
  const copy = join(scratch, "verify-ci", jobName(p));
  await Deno.remove(copy, { recursive: true }).catch(() => {});
  await copyTree(repo, copy);
  const results: StepResult[] = [];
  let stopped: string | undefined;
  // A hosted job's Python (setup-python) is its own to install into; Debian's is not (PEP 668),
  // so a Python job runs in a virtual environment made for it, as uv's does by itself.
  const venv = p.type === "python" && p.packageManager !== "uv";
  if (venv) {
    const made = await runSandboxed(join(copy, p.dir), `python3 -m venv ${VENV}`, {
      ...o,
      root: copy,
    }, 120_000);
    if (made.code !== 0) {
      const first = made.output.split("\n").find((l) => l.trim()) ?? "no output";
      stopped = `this machine's Python could not make a virtual environment, as setup-python's ` +
        `would be (install python3-venv): ${first}`;
    }
  }
  for (const [name, command] of commands(p)) {
    const script = venv ? inVenv(command) : command;
    if (stopped) {
      results.push({ name, command, outcome: "not run", why: stopped });
      continue;
    }
    const tool = command.split(/\s+/)[0];
    const mode = {
      ...o,
      root: copy,
      network: name === "Install" && !!o.allowInstallNetwork,
      // Deno is here whatever else is not: the one troupe runs on.
      ...(tool === "deno" ? { tools: { deno: Deno.execPath() } } : {}),
    };
    const probe = await runSandboxed(
      join(copy, p.dir),
      venv ? inVenv(`command -v ${tool}`) : `command -v ${tool}`,
      mode,
      10_000,
    );
    if (probe.code !== 0) {
      // No exit code: nothing could run at all here (no sandbox), and the output says why.
      const why = probe.code === null && !probe.timedOut
        ? probe.output.split("\n")[0]
        : `${tool} is not installed here`;
      results.push({ name, command, outcome: "not run", why });
      stopped = `an earlier step could not run (${why})`;
      continue;
    }
    const r = await runSandboxed(join(copy, p.dir), script, mode, o.timeoutMs ?? 600_000);
    const machine = r.code !== 0 ? MACHINE.find(([re]) => re.test(r.output)) : undefined;
    // The Test step passes only on the runner's own word that tests ran and none failed.
    const tests = name === "Test"
      ? countTests(r.output) ?? await countReports(join(copy, p.dir))
      : undefined;
    const counted = tests ? { tests } : {};
    const verdict = name === "Test"
      ? testVerdict(r.code, tests)
      : r.code === 0
      ? "passed"
      : "failed";
    if (verdict === "passed") {
      results.push({ name, command, outcome: "passed", durationMs: r.durationMs, ...counted });
    } else if (verdict === "ran no test") {
      results.push({
        name,
        command,
        outcome: "ran no test",
        why: noTestWhy(tests),
        tail: tailOf(r.output, 1500),
        durationMs: r.durationMs,
        ...counted,
      });
    } else if (machine) {
      const why = `${machine[1]}: ${r.output.match(machine[0])?.[0]}`;
      results.push({ name, command, outcome: "not run", why, tail: tailOf(r.output, 1500) });
      stopped = `an earlier step could not run (${why})`;
    } else if (!mode.network && NETWORK.test(r.output)) {
      const why = name === "Install"
        ? "it needs the network (allow it with --allow-install-network)"
        : "it needs the network, which only install steps may use here";
      results.push({ name, command, outcome: "not run", why, tail: tailOf(r.output, 1500) });
      stopped = `an earlier step could not run (${why})`;
    } else {
      results.push({
        name,
        command,
        outcome: "failed",
        why: r.timedOut
          ? "it ran past its time limit"
          : tests?.failed
          ? `exit ${r.code}, ${tests.failed} of ${tests.ran} tests failed by ${tests.runner}`
          : `exit ${r.code}`,
        tail: tailOf(r.output, 1500),
        durationMs: r.durationMs,
        ...counted,
      });
      stopped = `${name} failed`;
      failedOutput = r.output;
    }
  }
  return { results, failedOutput };
}
