import { XMLParser } from "fast-xml-parser";
import { join } from "node:path";
import { fed, stablePath } from "../../../runtime/effects.ts";

/** How many tests a runner said it ran, passed, failed and skipped. */
export interface TestCount {
  /** Whose summary it was read from: `pytest`, `cargo test`, `JUnit XML reports`, … */
  runner: string;
  ran: number;
  passed: number;
  failed: number;
  skipped: number;
}

/**
 * What a test command came to: only a run that reported at least one test and no failure passed;
 * one whose tool is not installed here "could not run here" (not "failed": nothing was tested).
 */
export type TestVerdict = "passed" | "failed" | "ran no test" | "could not run here";

// deno-lint-ignore no-control-regex
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;
const num = (s: string | undefined) => Number(s ?? 0) || 0;
const count = (text: string, re: RegExp) => num(text.match(re)?.[1]);
/** tape's summary: node's TAP words with two spaces before the pass and fail counts. */
const TAPE = /^# tests (\d+)\n# pass {2}(\d+)(?:\n# fail {2}(\d+))?$/m;

/**
 * Each runner's own summary line(s), read as its maintainers print them. A reader returns the
 * figures it found, or nothing; several runners in one output (a Makefile that runs two) add up.
 * Written here: no library reads the summaries of a dozen runners.
 */
const READERS: { runner: string; read(text: string): Omit<TestCount, "runner"> | undefined }[] = [
  {
    runner: "deno test",
    read: (t) => {
      const m = t.match(/^(?:ok|FAILED) \| (\d+) passed(?: \(\d+ steps?\))? \| (\d+) failed/m);
      if (!m) return undefined;
      const ignored = count(t, /\| (\d+) ignored/);
      return tally(num(m[1]), num(m[2]), ignored);
    },
  },
  {
    runner: "pytest",
    read: (t) => {
      const lines = [...t.matchAll(/^=+ (.*?) in [\d.]+s(?: \([^)]*\))? =+$/gm)].map((m) => m[1]);
      const line = lines.findLast((l) =>
        /passed|failed|error|skipped|no tests ran|deselected/.test(l)
      );
      if (line === undefined) return undefined;
      return tally(
        count(line, /(\d+) passed/),
        count(line, /(\d+) failed/) + count(line, /(\d+) errors?/),
        count(line, /(\d+) skipped/) + count(line, /(\d+) xfailed/),
      );
    },
  },
  {
    runner: "unittest",
    read: (t) => {
      const m = t.match(/^Ran (\d+) tests? in [\d.]+s/m);
      if (!m) return undefined;
      const failed = count(t, /^FAILED \(.*?failures=(\d+)/m) +
        count(t, /^FAILED \(.*?errors=(\d+)/m);
      const skipped = count(t, /^OK \(.*?skipped=(\d+)/m) + count(t, /^FAILED \(.*?skipped=(\d+)/m);
      return tally(num(m[1]) - failed - skipped, failed, skipped);
    },
  },
  {
    runner: "cargo test",
    read: (t) =>
      sum([...t.matchAll(/test result: (?:ok|FAILED)\. (\d+) passed; (\d+) failed; (\d+) ignored/g)]
        .map((m) => tally(num(m[1]), num(m[2]), num(m[3])))),
  },
  {
    runner: "go test",
    read: (t) => {
      // Verbose output (`=== RUN`) names each test; otherwise each package with tests is one
      // unit (a failing test's `--- FAIL` line is printed without -v too).
      const tests = [...t.matchAll(/^\s*--- (PASS|FAIL|SKIP): /gm)].map((m) => m[1]);
      if (/^=== RUN /m.test(t) && tests.length > 0) {
        const n = (k: string) => tests.filter((x) => x === k).length;
        return tally(n("PASS"), n("FAIL"), n("SKIP"));
      }
      const ok = [...t.matchAll(/^ok\s+\S+\s+(?:\(cached\)|[\d.]+s)(.*)$/gm)];
      const fail = [...t.matchAll(/^FAIL\s+\S+\s+(?:\[|[\d.]+s)/gm)].length;
      const none = /^\?\s+\S+\s+\[no test files\]/m.test(t);
      if (ok.length === 0 && fail === 0 && !none) return undefined;
      const ran = ok.filter((m) => !/\[no tests to run\]/.test(m[1])).length;
      return tally(ran, fail, 0);
    },
  },
  {
    runner: "ctest",
    read: (t) => {
      if (/No tests were found/.test(t)) return tally(0, 0, 0);
      const m = t.match(/\d+% tests passed, (\d+) tests? failed out of (\d+)/);
      return m ? tally(num(m[2]) - num(m[1]), num(m[1]), 0) : undefined;
    },
  },
  {
    runner: "node --test",
    read: (t) => {
      const m = t.match(/^(?:# |ℹ )tests (\d+)$/m);
      if (!m || TAPE.test(t)) return undefined;
      const skipped = count(t, /^(?:# |ℹ )skipped (\d+)$/m) + count(t, /^(?:# |ℹ )todo (\d+)$/m);
      return tally(count(t, /^(?:# |ℹ )pass (\d+)$/m), count(t, /^(?:# |ℹ )fail (\d+)$/m), skipped);
    },
  },
  {
    // tape counts assertions, not tests, and says so in the same words as node's TAP.
    runner: "tape (assertions)",
    read: (t) => {
      const m = t.match(TAPE);
      return m ? tally(num(m[2]), num(m[3]), 0) : undefined;
    },
  },
  {
    runner: "vitest",
    read: (t) => {
      if (/No test files found/.test(t)) return tally(0, 0, 0);
      const line = t.match(/^\s*Tests\s+(.*\(\d+\))\s*$/m)?.[1];
      if (!line) return undefined;
      return tally(
        count(line, /(\d+) passed/),
        count(line, /(\d+) failed/),
        count(line, /(\d+) skipped/) + count(line, /(\d+) todo/),
      );
    },
  },
  {
    runner: "jest",
    read: (t) => {
      if (/^No tests found/m.test(t)) return tally(0, 0, 0);
      const line = t.match(/^Tests:\s+(.*\d+ total)/m)?.[1];
      if (!line) return undefined;
      return tally(
        count(line, /(\d+) passed/),
        count(line, /(\d+) failed/),
        count(line, /(\d+) skipped/) + count(line, /(\d+) todo/),
      );
    },
  },
  {
    runner: "mocha",
    read: (t) => {
      const m = t.match(/^\s*(\d+) passing \(/m);
      if (!m) return undefined;
      return tally(num(m[1]), count(t, /^\s*(\d+) failing$/m), count(t, /^\s*(\d+) pending$/m));
    },
  },
  {
    runner: "uvu",
    // Total counts the tests that ran; a failed one is not among the passed.
    read: (t) => {
      const m = t.match(/^\s*Total:\s+(\d+)\n\s*Passed:\s+(\d+)\n\s*Skipped:\s+(\d+)$/m);
      return m ? tally(num(m[2]), num(m[1]) - num(m[2]), num(m[3])) : undefined;
    },
  },
  {
    runner: "AVA",
    // With a failure AVA prints no passed count: its passed tests are its ✔ lines then.
    read: (t) => {
      if (!/^\s*\d+ (?:tests? (?:passed|failed)|known failures?)$/m.test(t)) return undefined;
      const passed = /^\s*\d+ tests? passed$/m.test(t)
        ? count(t, /^\s*(\d+) tests? passed$/m)
        : [...t.matchAll(/^\s*✔ (?!\[)/gm)].length;
      return tally(
        passed,
        count(t, /^\s*(\d+) tests? failed$/m) + count(t, /^\s*(\d+) known failures?$/m),
        count(t, /^\s*(\d+) tests? skipped$/m) + count(t, /^\s*(\d+) tests? todo$/m),
      );
    },
  },
  {
    runner: "bun test",
    read: (t) => {
      if (!/^Ran \d+ tests? across \d+ files?/m.test(t)) return undefined;
      return tally(
        count(t, /^\s*(\d+) pass$/m),
        count(t, /^\s*(\d+) fail$/m),
        count(t, /^\s*(\d+) skip$/m) + count(t, /^\s*(\d+) todo$/m),
      );
    },
  },
  {
    runner: "Maven Surefire",
    // Each class's line has its time; the summaries after "Results:" do not. Modules add up.
    read: (t) =>
      sum(
        [...t.matchAll(
          /Tests run: (\d+), Failures: (\d+), Errors: (\d+), Skipped: (\d+)(?!, Time elapsed)/g,
        )]
          .map((m) => {
            const failed = num(m[2]) + num(m[3]);
            return tally(num(m[1]) - failed - num(m[4]), failed, num(m[4]));
          }),
      ),
  },
  {
    runner: "PHPUnit",
    read: (t) => {
      if (/No tests executed!/.test(t)) return tally(0, 0, 0);
      const ok = t.match(/^OK \((\d+) tests?, \d+ assertions?\)/m);
      if (ok) return tally(num(ok[1]), 0, 0);
      const m = t.match(/^Tests: (\d+), Assertions: \d+(.*)$/m);
      if (!m) return undefined;
      const failed = count(m[2], /Errors: (\d+)/) + count(m[2], /Failures: (\d+)/);
      const skipped = count(m[2], /Skipped: (\d+)/) + count(m[2], /Incomplete: (\d+)/);
      return tally(num(m[1]) - failed - skipped, failed, skipped);
    },
  },
  {
    runner: "mix test",
    read: (t) => {
      const m = t.match(
        /^(?:(\d+) doctests?, )?(?:(\d+) propert(?:y|ies), )?(\d+) tests?, (\d+) failures?(?:, (\d+) (?:excluded|skipped))?/m,
      );
      if (!m) return /There are no tests to run/.test(t) ? tally(0, 0, 0) : undefined;
      const ran = num(m[1]) + num(m[2]) + num(m[3]);
      return tally(ran - num(m[4]), num(m[4]), 0);
    },
  },
  {
    runner: "RSpec",
    read: (t) => {
      const m = t.match(/^(\d+) examples?, (\d+) failures?(?:, (\d+) pending)?/m);
      return m ? tally(num(m[1]) - num(m[2]) - num(m[3]), num(m[2]), num(m[3])) : undefined;
    },
  },
  {
    runner: "dotnet test",
    read: (t) => {
      if (/No test is available/.test(t)) return tally(0, 0, 0);
      const old = [
        ...t.matchAll(
          /(?:Passed|Failed)!\s+-\s+Failed:\s+(\d+),\s+Passed:\s+(\d+),\s+Skipped:\s+(\d+)/g,
        ),
      ];
      if (old.length) return sum(old.map((m) => tally(num(m[2]), num(m[1]), num(m[3]))));
      const m = t.match(
        /Test summary: total: (\d+), failed: (\d+), succeeded: (\d+), skipped: (\d+)/,
      );
      return m ? tally(num(m[3]), num(m[2]), num(m[4])) : undefined;
    },
  },
];

function tally(passed: number, failed: number, skipped: number): Omit<TestCount, "runner"> {
  return { ran: passed + failed, passed, failed, skipped };
}

function sum(parts: Omit<TestCount, "runner">[]): Omit<TestCount, "runner"> | undefined {
  if (parts.length === 0) return undefined;
  return parts.reduce((a, b) => ({
    ran: a.ran + b.ran,
    passed: a.passed + b.passed,
    failed: a.failed + b.failed,
    skipped: a.skipped + b.skipped,
  }));
}

/** The tests a command's output reports, by the summaries of the runners that printed one. */
export function countTests(output: string): TestCount | undefined {
  const text = output.replace(ANSI, "").replace(/\r/g, "");
  const found = READERS.flatMap((r) => {
    const c = r.read(text);
    return c ? [{ runner: r.runner, ...c }] : [];
  });
  if (found.length === 0) return undefined;
  const total = sum(found)!;
  return { runner: found.map((f) => f.runner).join(" + "), ...total };
}

/** Where Gradle and Maven leave their JUnit XML reports, below a project's folder. */
const REPORT_DIRS = [["build", "test-results"], ["target", "surefire-reports"]];

/**
 * The tests in JUnit XML reports a run left (Gradle prints no count; Maven's reports are exact),
 * in `dir` and its modules one level down; nothing when there are none.
 */
export function countReports(dir: string): Promise<TestCount | undefined> {
  // What the tests left: a replay, which runs no test, answers from the recording.
  return fed("fs.reports", stablePath(dir), async () => await readReports(dir) ?? null)
    .then((count) => count ?? undefined);
}

async function readReports(dir: string): Promise<TestCount | undefined> {
  const files: string[] = [];
  const entries = async (d: string) => {
    try {
      return await Array.fromAsync(Deno.readDir(d));
    } catch {
      return []; // no such folder: no reports there
    }
  };
  const walk = async (d: string, depth: number) => {
    for (const e of await entries(d)) {
      const p = join(d, e.name);
      if (e.isDirectory && depth < 4) await walk(p, depth + 1);
      else if (e.isFile && /^TEST-.*\.xml$/.test(e.name)) files.push(p);
    }
  };
  const modules = [dir];
  for (const e of await entries(dir)) {
    if (e.isDirectory && !e.name.startsWith(".")) modules.push(join(dir, e.name));
  }
  for (const m of modules) {
    for (const r of REPORT_DIRS) await walk(join(m, ...r), 0);
  }
  if (files.length === 0) return undefined;
  const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "" });
  const parts: Omit<TestCount, "runner">[] = [];
  for (const f of files) {
    try {
      const doc = parser.parse(await Deno.readTextFile(f));
      const suites = [doc.testsuite ?? doc.testsuites?.testsuite ?? []].flat();
      for (const s of suites) {
        const failed = num(s.failures) + num(s.errors);
        const skipped = num(s.skipped);
        parts.push(tally(num(s.tests) - failed - skipped, failed, skipped));
      }
    } catch {
      // A report being written when the run was stopped: the others still count.
    }
  }
  const total = sum(parts);
  return total && { runner: "JUnit XML reports", ...total };
}

/** A test command's verdict from its exit code and what it reported. */
export function testVerdict(code: number | null, tests: TestCount | undefined): TestVerdict {
  if (code !== 0 || (tests && tests.failed > 0)) return "failed";
  return tests && tests.ran > 0 ? "passed" : "ran no test";
}

/** Why a command that exited 0 is not a pass, for the report. */
export function noTestWhy(tests: TestCount | undefined): string {
  return tests
    ? `${tests.runner} reported ${tests.ran} tests run`
    : "it exited 0 but no test runner's summary was found in its output";
}
