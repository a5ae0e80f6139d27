import assert from "node:assert/strict";
import { join } from "node:path";
import { Ledger } from "../../ledger/mod.ts";
import { cli, writeFiles } from "../cli_helpers.ts";

const LIB = `exports.add = (a, b) => {
  return a + b;
};
exports.sub = (a, b) => {
  if (a < b) {
    return 0;
  }
  return a - b;
};
`;
const HEAD = 'const test = require("node:test");\nconst assert = require("node:assert");\n' +
  'const { add, sub } = require("../lib.js");\n';

Deno.test("a run's tests are measured for coverage (Node: V8's own), and the next run of the repository names what got worse: a test that now fails, coverage that fell", async () => {
  const dir = await Deno.makeTempDir({ prefix: "troupe-coverage-" });
  try {
    const repo = join(dir, "calc");
    const ledger = join(dir, "ledger.duckdb");
    await writeFiles(repo, {
      "package.json": JSON.stringify({ name: "calc", scripts: { test: "node --test" } }),
      "lib.js": LIB,
      "test/lib.test.js": HEAD +
        'test("add", () => assert.equal(add(1, 2), 3));\n' +
        'test("sub", () => { assert.equal(sub(5, 2), 3); assert.equal(sub(1, 2), 0); });\n',
      // A test file where node --test and AVA look for one too: not counted as code.
      "test.js": HEAD.replace("../lib.js", "./lib.js") +
        'test("adds", () => assert.equal(add(2, 2), 4));\n',
    });
    const run = (out: string) =>
      cli(["run", "--repo", repo, "--out", join(dir, out), "--run-tests", "--ledger", ledger]);
    const first = await run("first");
    assert.equal(first.code, 0, first.stderr);
    const firstReport = await Deno.readTextFile(join(dir, "first", "report.md"));
    assert.match(firstReport, /\*\*passed\*\*.*lines run 100% \(9 of 9, V8 \(NODE_V8_COVERAGE\)\)/);
    assert.doesNotMatch(firstReport, /Since run/, "nothing to compare with the first time");

    // One test now fails, and sub is no longer tested.
    await Deno.writeTextFile(
      join(repo, "test/lib.test.js"),
      HEAD + 'test("add", () => assert.equal(add(1, 2), 4));\n',
    );
    const second = await run("second");
    assert.equal(second.code, 1, "failing tests make the run exit 1");
    const report = await Deno.readTextFile(join(dir, "second", "report.md"));
    const firstId = JSON.parse(await Deno.readTextFile(join(dir, "first", "report.json"))).runId;
    assert.match(report, new RegExp(`Since run ${firstId}:`));
    assert.match(report, /- regression: node \.: its tests passed in run-\S+ and now: failed/);
    assert.match(report, /- regression: node \.: line coverage fell from 100% to 44\.44%/);
    const json = JSON.parse(await Deno.readTextFile(join(dir, "second", "report.json")));
    assert.equal(json.regressions.since, firstId);
    assert.equal(json.regressions.found.length, 2);

    const l = await Ledger.open(ledger, { readOnly: true });
    try {
      const rows = (await l.query(
        "SELECT verdict, coverage_pct, lines_covered, lines_total FROM coverage ORDER BY seq",
      )).rows;
      assert.deepEqual(rows, [
        { verdict: "passed", coverage_pct: 100, lines_covered: 9, lines_total: 9 },
        { verdict: "failed", coverage_pct: 44.44, lines_covered: 4, lines_total: 9 },
      ]);
    } finally {
      await l.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
