import { join } from "node:path";

/**
 * Coverage of a project's tests by its ecosystem's own tool, where the tool is there: the test
 * command is wrapped in a script that runs it as before and then, in the same sandboxed process,
 * has the tool summarize what ran and prints one line (`troupe-coverage: lines 9/12 by TOOL`),
 * which the test run's recorded output keeps: a replay reads the same coverage without running
 * anything. The wrapper keeps the test command's exit code; where the tool is missing it prints
 * nothing and the run has no coverage. Test files are left out of the figures.
 *
 * - Node: V8's own (`NODE_V8_COVERAGE`; every node process the tests start writes what ran), read
 *   by a small script: a line counts as run when V8's innermost block covering its first
 *   character ran. Written by hand: c8 and v8-to-istanbul would have to be installed into the
 *   project under test, and the sandbox has no network.
 * - Deno: `DENO_COVERAGE_DIR` (what `deno test --coverage` sets), then `deno coverage --lcov`.
 * - Python: coverage.py where the sandbox's python3 imports it: `python`/`python3` calls that run
 *   a module or a script (`python -m pytest`, `pytest`) run under `coverage run`.
 * - Go: `-coverprofile` through GOFLAGS (only commands that take it apply it), statements.
 * - Rust: `cargo llvm-cov` in place of `cargo test`, where that subcommand is installed.
 */

/** The coverage a test run reported. */
export interface Coverage {
  tool: string;
  /** What was counted: lines, or statements (Go's profiles count statements). */
  unit?: "lines" | "statements";
  linesCovered: number;
  linesTotal: number;
  /** Percent run, two decimals. */
  pct: number;
}

const FOLDER = ".troupe-coverage";

const SUMMARIZE = `"use strict";
const fs = require("fs"), path = require("path");
const [dir, root] = process.argv.slice(2);
// Test files as node --test and AVA find them: test/ folders, test.js, test-x.js, x.test.js, x_test.js.
const TEST = /(^|\\/)(tests?|__tests__|spec)\\/|[._-](test|spec)\\.[cm]?[jt]sx?$|(^|\\/)tests?([-_][^/]*)?\\.[cm]?[jt]sx?$/;
const files = new Map();
for (const f of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
  let data;
  try { data = JSON.parse(fs.readFileSync(path.join(dir, f), "utf8")); } catch { continue; }
  for (const script of data.result || []) {
    if (!script.url.startsWith("file://")) continue;
    const file = decodeURIComponent(new URL(script.url).pathname);
    const rel = path.relative(root, file);
    if (rel.startsWith("..") || rel.includes("node_modules") || rel.startsWith("${FOLDER}") || TEST.test(rel)) continue;
    let source;
    try { source = fs.readFileSync(file, "utf8"); } catch { continue; }
    const counts = new Int32Array(source.length).fill(-1);
    // Functions come outer first, and each function's blocks after it: inner ranges win.
    for (const fn of script.functions) for (const r of fn.ranges) counts.fill(r.count, r.startOffset, Math.min(r.endOffset, source.length));
    const lines = files.get(rel) || new Map();
    let offset = 0;
    source.split("\\n").forEach((text, i) => {
      const first = text.search(/\\S/);
      if (first >= 0 && counts[offset + first] >= 0) lines.set(i, lines.get(i) || counts[offset + first] > 0);
      offset += text.length + 1;
    });
    files.set(rel, lines);
  }
}
let covered = 0, total = 0;
for (const lines of files.values()) for (const ran of lines.values()) { total++; if (ran) covered++; }
if (total > 0) console.log("troupe-coverage: lines " + covered + "/" + total + " by V8 (NODE_V8_COVERAGE)");
`;

/** Sums an lcov report's LF (lines found) and LH (lines hit) records into the coverage line. */
const lcovLine = (tool: string) =>
  `awk -F: '/^LF:/{t+=$2} /^LH:/{c+=$2} END{if(t>0) print "troupe-coverage: lines " c "/" t " by ${tool}"}'`;

/** The test command, then the tool's summary; the script exits as the test command did. */
const around = (before: string[], test: string, after: string[]) =>
  [...before, test, "troupe_status=$?", ...after, "exit $troupe_status"].join("\n");

/** `python`, `python3` and `pytest` ahead on PATH: a module or a script runs under coverage.py. */
const PYTHON_SHIMS: Record<string, string> = {
  python: `#!/bin/sh
# python -c, --version and the like run as they are.
case "$1" in
  -m|*.py) exec "$TROUPE_PYTHON" -m coverage run --parallel-mode --source="$TROUPE_SOURCE" "$@" ;;
esac
exec "$TROUPE_PYTHON" "$@"
`,
  pytest: `#!/bin/sh
exec "$TROUPE_PYTHON" -m coverage run --parallel-mode --source="$TROUPE_SOURCE" -m pytest "$@"
`,
};

/**
 * The test command of a project of `type` wrapped to measure coverage with its ecosystem's tool,
 * with any helper files written into `dir` (a scratch copy); the command itself where troupe
 * knows no tool for the ecosystem.
 */
export async function withCoverage(type: string, dir: string, test: string): Promise<string> {
  const folder = join(dir, FOLDER);
  switch (type) {
    case "node":
    case "typescript":
      await Deno.mkdir(folder, { recursive: true });
      await Deno.writeTextFile(join(folder, "summarize.cjs"), SUMMARIZE);
      return around([`export NODE_V8_COVERAGE="$PWD/${FOLDER}/v8"`], test, [
        `node ${FOLDER}/summarize.cjs "$NODE_V8_COVERAGE" "$PWD" || true`,
      ]);
    case "deno":
      return around([`export DENO_COVERAGE_DIR="$PWD/${FOLDER}/deno"`], test, [
        `[ -d "$DENO_COVERAGE_DIR" ] && deno coverage --lcov "$DENO_COVERAGE_DIR" 2>/dev/null | ${
          lcovLine("deno coverage")
        }`,
      ]);
    case "python": {
      await Deno.mkdir(join(folder, "bin"), { recursive: true });
      for (const name of ["python", "python3", "pytest"]) {
        const file = join(folder, "bin", name);
        await Deno.writeTextFile(file, PYTHON_SHIMS[name === "pytest" ? name : "python"]);
        await Deno.chmod(file, 0o755);
      }
      const omit = "*/tests/*,*/test/*,*/test_*.py,*_test.py,*/conftest.py";
      const totals = 'import json,sys; t=json.load(open(sys.argv[1]))["totals"]; ' +
        'n=t["num_statements"]; ' +
        'n and print("troupe-coverage: lines %d/%d by coverage.py" % (t["covered_lines"], n))';
      return around(
        [
          "TROUPE_PYTHON=$(command -v python3)",
          'if [ -n "$TROUPE_PYTHON" ] && "$TROUPE_PYTHON" -c "import coverage" 2>/dev/null; then',
          `  export TROUPE_PYTHON TROUPE_SOURCE="$PWD" COVERAGE_FILE="$PWD/${FOLDER}/.coverage"`,
          `  export PATH="$PWD/${FOLDER}/bin:$PATH"`,
          "fi",
        ],
        test,
        [
          'if [ -n "$COVERAGE_FILE" ]; then',
          '  "$TROUPE_PYTHON" -m coverage combine -q >/dev/null 2>&1',
          `  "$TROUPE_PYTHON" -m coverage json -q --omit='${omit}' -o ${FOLDER}/py.json >/dev/null 2>&1 &&`,
          `    "$TROUPE_PYTHON" -c '${totals}' ${FOLDER}/py.json`,
          "fi",
        ],
      );
    }
    case "go":
      // A block may be listed once per test binary that ran it: counted once, run if any ran it.
      return around(
        [
          `mkdir -p ${FOLDER}`,
          `export GOFLAGS="$GOFLAGS -coverprofile=$PWD/${FOLDER}/go.out"`,
        ],
        test,
        [
          `[ -f ${FOLDER}/go.out ] && awk 'NR>1 && NF==3 {s[$1]=$2; if ($3>0) r[$1]=1} ` +
          `END {for (k in s) {t+=s[k]; if (k in r) c+=s[k]} ` +
          `if (t>0) print "troupe-coverage: statements " c "/" t " by go test -coverprofile"}' ${FOLDER}/go.out`,
        ],
      );
    case "rust": {
      if (!/^cargo test\b/.test(test)) return test;
      const llvmCov = test.replace(
        /^cargo test/,
        `cargo llvm-cov --lcov --output-path "$PWD/${FOLDER}/rust.lcov"`,
      );
      return [
        `mkdir -p ${FOLDER}`,
        `if cargo llvm-cov --version >/dev/null 2>&1; then`,
        `  ${llvmCov}`,
        "  troupe_status=$?",
        `  [ -f ${FOLDER}/rust.lcov ] && ${lcovLine("cargo llvm-cov")} < ${FOLDER}/rust.lcov`,
        "  exit $troupe_status",
        "fi",
        test,
      ].join("\n");
    }
    default:
      return test;
  }
}

/** The coverage line a wrapped run printed, if it did and measured anything. */
export function readCoverage(output: string): Coverage | undefined {
  const m = output.match(
    /^troupe-coverage: (lines|statements) (\d+)\/(\d+) (?:by (.+)|in \d+ files)$/m,
  );
  if (!m || Number(m[3]) === 0) return undefined;
  const [covered, total] = [Number(m[2]), Number(m[3])];
  return {
    // Runs recorded before the tool was named were Node's.
    tool: m[4] ?? "V8 (NODE_V8_COVERAGE)",
    ...(m[1] === "statements" ? { unit: "statements" as const } : {}),
    linesCovered: covered,
    linesTotal: total,
    pct: Math.round((covered / total) * 10_000) / 100,
  };
}
