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
  /** The project's own test command, which could not run here, and why: `command` ran in its
   * place (a Python project's tests under this machine's pytest, see `PYTHON_IN_PLACE`). */
  inPlaceOf?: { command: string; why: string };
}

/**
 * A Python project's tests under this machine's python3 and pytest as they are, its `src` folder
 * on the path: tried when the project's own runner (tox, nox, uv, hatch, poetry…) is not installed
 * here, which makes its environments; what it would have installed may be missing (then nothing
 * runs, and that is said). pytest runs unittest suites too.
 */
const PYTHON_IN_PLACE = "python3 -m pytest";
const SRC_ON_PATH = '[ -d src ] && export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}"';

/** Only with -v does go test name each test it ran rather than each package. */
const GO_VERBOSE = 'export GOFLAGS="$GOFLAGS -v"';

/** go test -v's lines for each test that starts or passes: the count needs them, a tail does not. */
const GO_PROGRESS = /^\s*(?:=== (?:RUN|PAUSE|CONT|NAME) |--- PASS: ).*\n/gm;

/**
 * Runs each project's own test command with a time limit, in `root` (a scratch copy), inside the
 * repository sandbox (bubblewrap; see `repo_sandbox.ts`): the project's code is untrusted. A
 * command passes only when its runner reported at least one test and no failure: exit 0 with no
 * test run is "ran no test". Go's tests run with -v (through GOFLAGS), as only then does go test
 * name each test it ran rather than each package.
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
    const where = { dir: join(root, p.dir), timeoutMs, mode: { ...mode, root }, options };
    const [own] = await runOne(p, p.test!, p.type === "go" ? GO_VERBOSE : undefined, where);
    const [inPlace, output] = p.type === "python" && own.why?.endsWith(" is not installed here")
      ? await runOne(p, PYTHON_IN_PLACE, SRC_ON_PATH, where)
      : [];
    if (!inPlace) {
      results.push(own);
      continue;
    }
    // No test passed under pytest (a module the project's runner would have installed is
    // missing, and pytest stops at collecting): the project's own command could not run.
    const ranNone = !inPlace.tests?.passed;
    results.push(
      ranNone
        ? {
          ...own,
          why: `${own.why}; nor under this machine's pytest (${lastWords(inPlace, output!)})`,
        }
        : { ...inPlace, inPlaceOf: { command: p.test!, why: own.why! } },
    );
  }
  return results;
}

/** One test command run in the sandbox, with its verdict and figures, and all it printed. */
async function runOne(
  p: { type: string; dir: string },
  command: string,
  /** Set-up for the command, not shown with it. */
  before: string | undefined,
  where: { dir: string; timeoutMs: number; mode: SandboxMode; options: { coverage?: boolean } },
): Promise<[TestRun, string]> {
  const { dir, timeoutMs, mode, options } = where;
  const test = before ? `${before}\n${command}` : command;
  const script = options.coverage ? await withCoverage(p.type, dir, test) : test;
  // Deno is here whatever else is not: the one troupe runs on.
  const tools = p.type === "deno" ? { tools: { deno: Deno.execPath() } } : {};
  const r = await runSandboxed(dir, script, { ...mode, ...tools }, timeoutMs);
  const coverage = options.coverage ? readCoverage(r.output) : undefined;
  const tests = countTests(r.output) ?? await countReports(dir);
  // A missing tool, the network or this machine: nothing of the project's was tested.
  const why = r.timedOut ? undefined : whyNotHere(r.code, r.output, (tests?.ran ?? 0) > 0);
  const verdict = why ? "could not run here" : testVerdict(r.code, tests);
  return [{
    project: `${p.type} ${p.dir}`,
    command,
    verdict,
    ...(why ? { why } : {}),
    ...(tests ? { tests } : {}),
    passed: verdict === "passed",
    code: r.code,
    timedOut: r.timedOut,
    durationMs: r.durationMs,
    tail: tailOf(p.type === "go" ? r.output.replace(GO_PROGRESS, "") : r.output, 2000),
    ...(coverage ? { coverage } : {}),
  }, r.output];
}

/** Why a run that tested nothing stopped, in its own words: its first error line, or its last. */
function lastWords(run: TestRun, output: string): string {
  if (run.why) return run.why;
  if (run.timedOut) return "it ran past its time limit";
  const lines = output.split("\n").map((l) => l.trim()).filter(Boolean);
  const error = lines.find((l) => /^E\s+\w*(Error|Exception)\b|^\w*Error: /.test(l));
  const said = (error ?? lines.at(-1) ?? `exit ${run.code}`).replace(/^E\s+/, "");
  return said.length > 120 ? `${said.slice(0, 120)}…` : said;
}
