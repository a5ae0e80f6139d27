import { join } from "node:path";
import type { Detection } from "../../tasks/repo_facts.ts";
import { type Coverage, readCoverage, withCoverage } from "./test_coverage.ts";
import { whyNotHere } from "./not_here.ts";
import { runSandboxed, type SandboxMode, tailOf } from "./repo_sandbox.ts";
import {
  countReports,
  countTests,
  type TestCount,
  type TestVerdict,
  testVerdict,
} from "./test_count.ts";

/** One project's test command as it ran here. */
export interface TestRun {
  project: string;
  command: string;
  /** `passed` only when the runner reported at least one test run and none failed. */
  verdict: TestVerdict;
  /** Why it could not run here (`could not run here`). */
  why?: string;
  /** What the runner reported, read from its own summary (or its JUnit XML reports). */
  tests?: TestCount;
  /** Kept for readers of older reports: true exactly when `verdict` is `passed`. */
  passed: boolean;
  code: number | null;
  timedOut: boolean;
  durationMs: number;
  tail: string;
  /** What the tests ran, where the ecosystem's own tool measured it (see `test_coverage.ts`). */
  coverage?: Coverage;
}

/**
 * Runs each project's own test command with a time limit, in `root` (a scratch copy), inside the
 * repository sandbox (bubblewrap; see `repo_sandbox.ts`): the project's code is untrusted. A
 * command passes only when its runner reported at least one test and no failure: exit 0 with no
 * test run is "ran no test".
 */
export async function runTests(
  root: string,
  detection: Detection,
  timeoutMs: number,
  mode: SandboxMode = {},
  /** Measure line coverage where the ecosystem allows (the tester's run; not a coder's loop,
   * whose workspace must hold only its own changes). */
  options: { coverage?: boolean } = {},
): Promise<TestRun[]> {
  const results: TestRun[] = [];
  for (const p of detection.projects.filter((p) => p.test)) {
    const dir = join(root, p.dir);
    const script = options.coverage ? await withCoverage(p.type, dir, p.test!) : p.test!;
    // Deno is here whatever else is not: the one troupe runs on.
    const tools = p.type === "deno" ? { tools: { deno: Deno.execPath() } } : {};
    const r = await runSandboxed(dir, script, { ...mode, root, ...tools }, timeoutMs);
    const coverage = options.coverage ? readCoverage(r.output) : undefined;
    const tests = countTests(r.output) ?? await countReports(dir);
    // A missing tool, the network or this machine: nothing of the project's was tested.
    const why = r.timedOut ? undefined : whyNotHere(r.code, r.output, (tests?.ran ?? 0) > 0);
    const verdict = why ? "could not run here" : testVerdict(r.code, tests);
    results.push({
      project: `${p.type} ${p.dir}`,
      command: p.test!,
      verdict,
      ...(why ? { why } : {}),
      ...(tests ? { tests } : {}),
      passed: verdict === "passed",
      code: r.code,
      timedOut: r.timedOut,
      durationMs: r.durationMs,
      tail: tailOf(r.output, 2000),
      ...(coverage ? { coverage } : {}),
    });
  }
  return results;
}
