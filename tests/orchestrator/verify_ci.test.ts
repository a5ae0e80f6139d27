import assert from "node:assert/strict";
import { join } from "node:path";
import { writeFiles } from "../cli_helpers.ts";
import { type RunRequest, type RunResult, RunSession } from "../../actors/mod.ts";
import { withLedger } from "../ledger_helpers.ts";

const LOCK = JSON.stringify({
  name: "app",
  version: "1.0.0",
  lockfileVersion: 3,
  requires: true,
  packages: { "": { name: "app", version: "1.0.0" } },
});
const NODE_TEST = 'const test = require("node:test");\nconst assert = require("node:assert");\n';

/** A Node project with no dependencies (its install needs no network) and a Rust crate. */
const nodeAndCrate = (testBody: string): Record<string, string> => ({
  "package.json": JSON.stringify({
    name: "app",
    version: "1.0.0",
    scripts: { test: "node --test test/" },
  }),
  "package-lock.json": LOCK,
  "test/app.test.js": `${NODE_TEST}test("app", () => { ${testBody} });\n`,
  "crate/Cargo.toml": '[package]\nname = "crate"\nversion = "0.1.0"\n',
  "crate/src/lib.rs": "pub fn f() {}\n",
});

/** Writes `files` as a repository and runs the team on it with `--verify-ci`. */
async function verifyFiles(files: Record<string, string>, extra: Partial<RunRequest> = {}) {
  const tmp = await Deno.makeTempDir({ prefix: "troupe-verify-" });
  try {
    const dir = join(tmp, "repo");
    await writeFiles(dir, files);
    let result: RunResult | undefined;
    await withLedger(async (ledger) => {
      const session = await RunSession.start(ledger, {
        repo: dir,
        out: join(tmp, "out"),
        verifyCi: true,
        ...extra,
      });
      result = await session.run();
    });
    const md = await Deno.readTextFile(join(tmp, "out", "report.md"));
    const workflow = await Deno.readTextFile(join(tmp, "out", "files", ".github/workflows/ci.yml"))
      .catch(() => "");
    return { result: result!, md, workflow };
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

const verify = (testBody: string) => verifyFiles(nodeAndCrate(testBody));

Deno.test("--verify-ci runs each proposed job's steps here, sandboxed: what passed, and what could not run here and why", async () => {
  const { result, md } = await verify("assert.equal(1 + 1, 2);");
  assert.deepEqual(result.outcome.dead, []);
  const jobs = result.report.ciVerification!;
  // In the order the detector found the projects (the scan's, by path).
  assert.deepEqual(jobs.map((j) => [j.job, j.verdict]), [
    ["rust-crate", "unverified"],
    ["node", "verified"],
  ]);
  const [rust, node] = jobs;
  assert.deepEqual(node.steps.map((s) => [s.name, s.command, s.outcome]), [
    ["Install", "npm ci", "passed"],
    ["Test", "npm test", "passed"],
  ]);
  assert.deepEqual(rust.steps.map((s) => [s.name, s.outcome, s.why]), [
    ["Build", "not run", "cargo is not installed here"],
    ["Test", "not run", "an earlier step could not run (cargo is not installed here)"],
  ]);
  assert.equal(result.report.review?.verdict, "approve");
  assert.ok(
    result.report.review?.notes.some((n) =>
      /rust-crate could not be verified here: cargo is not installed/.test(n)
    ),
  );
  assert.match(md, /## CI verified here\n\n- \*\*rust-crate\*\*: unverified\n/);
  assert.match(md, /- \*\*node\*\*: verified\n {2}- Install `npm ci`: passed/);
});

Deno.test("a proposed job that fails here is not verified, and the review blocks it with the failing step", async () => {
  const { result, md } = await verify("assert.equal(1 + 1, 3);");
  const node = result.report.ciVerification!.find((j) => j.job === "node")!;
  assert.equal(node.verdict, "failed");
  assert.deepEqual(node.steps.map((s) => [s.name, s.outcome]), [["Install", "passed"], [
    "Test",
    "failed",
  ]]);
  assert.match(node.steps[1].tail!, /AssertionError|fail 1/);
  assert.equal(result.report.review?.verdict, "block");
  assert.ok(
    result.report.review?.problems.some((p) =>
      /CI job node failed here at "npm test" \(exit 1, 1 of 1 tests failed by node --test\): not verified/
        .test(p)
    ),
  );
  assert.match(md, /- Test `npm test`: failed \(exit 1, 1 of 1 tests failed by node --test\)/);
});

Deno.test("a job that fails through the workflow's fault is repaired and verified again, and the repaired workflow is the one proposed", async () => {
  // package.json needs a local package that package-lock.json does not list: `npm ci` refuses
  // the lock file, `npm install` (no network needed for a file: dependency) accepts it.
  const { result, md, workflow } = await verifyFiles({
    "package.json": JSON.stringify({
      name: "app",
      version: "1.0.0",
      scripts: { test: "node --test test/" },
      dependencies: { "add-lib": "file:./lib" },
    }),
    "package-lock.json": LOCK,
    "lib/package.json": JSON.stringify({ name: "add-lib", version: "1.0.0", main: "index.js" }),
    "lib/index.js": "module.exports = (a, b) => a + b;\n",
    "test/app.test.js":
      `${NODE_TEST}test("adds", () => assert.equal(require("add-lib")(1, 2), 3));\n`,
  });
  const [node] = result.report.ciVerification!;
  assert.equal(node.verdict, "verified");
  assert.deepEqual(node.repairs.map((r) => [r.step, r.problem]), [
    ["Install", "npm ci refused package-lock.json: it is out of step with package.json"],
  ]);
  assert.deepEqual(node.steps.map((s) => [s.command, s.outcome]), [
    ["npm install", "passed"],
    ["npm test", "passed"],
  ]);
  assert.match(workflow, /run: npm install\n/);
  assert.doesNotMatch(workflow, /npm ci/);
  assert.equal(result.report.review?.verdict, "approve");
  assert.ok(
    result.report.review?.notes.some((n) => /was repaired after its Install step failed/.test(n)),
  );
  assert.match(md, /repaired after Install failed: npm ci refused package-lock\.json/);
});

Deno.test("a Deno project is verified with the Deno troupe runs on, lent to the sandbox as its one extra tool", async () => {
  const { result } = await verifyFiles({
    "deno.json": JSON.stringify({ tasks: { test: "deno test --no-lock" } }),
    "add_test.ts": 'Deno.test("adds", () => {\n  if (1 + 1 !== 2) throw new Error("no");\n});\n',
  });
  const [job] = result.report.ciVerification!;
  assert.deepEqual(
    [job.job, job.verdict, job.steps.map((s) => [s.command, s.outcome])],
    ["deno", "verified", [["deno task test", "passed"]]],
    job.steps.map((s) => s.tail ?? "").join("\n"),
  );
});

Deno.test("a Python job is verified in a virtual environment, as setup-python's Python would be, not refused by the system's (PEP 668)", async () => {
  const { result, md } = await verifyFiles({
    "pyproject.toml": '[project]\nname = "calc"\nversion = "1.0"\n',
    "requirements.txt": "# no dependencies\n",
    "Makefile": "test:\n\tpython -m unittest discover -s tests -v\n",
    "calc.py": "def add(a, b):\n    return a + b\n",
    "tests/test_calc.py":
      "import unittest\nimport calc\n\nclass T(unittest.TestCase):\n    def test_add(self):\n        self.assertEqual(calc.add(1, 2), 3)\n\n    def test_zero(self):\n        self.assertEqual(calc.add(0, 0), 0)\n",
  });
  const [job] = result.report.ciVerification!;
  assert.deepEqual(
    [job.job, job.verdict, job.steps.map((s) => [s.command, s.outcome])],
    ["python", "verified", [["pip install -r requirements.txt", "passed"], [
      "make test",
      "passed",
    ]]],
    job.steps.map((s) => `${s.why ?? ""}\n${s.tail ?? ""}`).join("\n"),
  );
  assert.deepEqual(job.steps[1].tests, {
    runner: "unittest",
    ran: 2,
    passed: 2,
    failed: 0,
    skipped: 0,
  });
  assert.match(md, /- Test `make test`: passed \(2 run, 2 passed, 0 failed: unittest\)/);
});

Deno.test("a Java job's JDK runs in the sandbox; what this machine lacks (Maven's plugins, offline) is 'could not run here', never 'failed'", async () => {
  const { result } = await verifyFiles({
    "pom.xml":
      `<project><modelVersion>4.0.0</modelVersion><groupId>a</groupId><artifactId>b</artifactId><version>1</version><properties><maven.compiler.release>17</maven.compiler.release></properties></project>\n`,
    "src/main/java/a/B.java": "package a;\npublic class B {}\n",
  });
  const [job] = result.report.ciVerification!;
  const steps = job.steps.map((s) => `${s.name}: ${s.outcome} (${s.why})`).join("\n");
  assert.equal(job.verdict, "unverified", steps);
  assert.ok(!job.steps.some((s) => s.outcome === "failed"), steps);
  assert.match(job.steps[0].why!, /needs the network|mvn is not installed here/, steps);
  assert.doesNotMatch(job.steps[0].tail ?? "", /java\.security/);
  assert.equal(result.report.review?.verdict, "approve");
});

Deno.test("--home-toolchains lends the sandbox the user's rustup toolchain, read-only: a crate is verified with it", async () => {
  const crate = {
    "Cargo.toml": '[package]\nname = "crate"\nversion = "0.1.0"\nedition = "2021"\n',
    "src/lib.rs":
      "pub fn add(a: u8, b: u8) -> u8 {\n    a + b\n}\n\n#[test]\nfn adds() {\n    assert_eq!(add(1, 2), 3);\n}\n",
  };
  const without = (await verifyFiles(crate)).result.report.ciVerification![0];
  assert.equal(without.steps[0].why, "cargo is not installed here");
  const { result } = await verifyFiles(crate, { homeToolchains: true });
  const [job] = result.report.ciVerification!;
  const steps = job.steps.map((s) => `${s.name}: ${s.outcome} (${s.why ?? ""})\n${s.tail ?? ""}`)
    .join("\n");
  const home = Deno.env.get("HOME");
  const hasRustup = await Deno.stat(`${home}/.cargo/bin/cargo`).then(() => true, () => false);
  if (hasRustup) {
    assert.equal(job.verdict, "verified", steps);
    assert.equal(job.steps.at(-1)!.tests?.ran, 1, steps);
  } else {
    // No rustup in this home: still the honest answer, never "failed".
    assert.equal(job.verdict, "unverified", steps);
  }
});

Deno.test("Elixir and PHP projects are verified with the system's toolchains; a Ruby install that needs rubygems.org could not run here", async () => {
  const { result, md } = await verifyFiles({
    "ex/mix.exs":
      'defmodule Ex.MixProject do\n  use Mix.Project\n  def project, do: [app: :ex, version: "0.1.0", deps: []]\nend\n',
    "ex/lib/ex.ex": "defmodule Ex do\n  def add(a, b), do: a + b\nend\n",
    "ex/test/test_helper.exs": "ExUnit.start()\n",
    "ex/test/ex_test.exs":
      'defmodule ExTest do\n  use ExUnit.Case\n  test "adds", do: assert(Ex.add(1, 2) == 3)\nend\n',
    "php/composer.json": JSON.stringify({
      name: "a/b",
      require: { php: ">=8.1" },
      scripts: { test: "php tests/run.php" },
    }),
    "php/tests/run.php":
      '<?php\n$ok = 1 + 2 === 3;\necho $ok ? "OK (1 test, 1 assertion)\\n" : "FAILURES!\\n";\nexit($ok ? 0 : 1);\n',
    "rb/Gemfile": 'source "https://rubygems.org"\ngem "rake"\ngem "minitest"\n',
    "rb/Rakefile": 'require "rake/testtask"\nRake::TestTask.new(:test)\n',
  });
  const verdicts = Object.fromEntries(
    result.report.ciVerification!.map((j) => [j.job, [j.verdict, j.steps.map((s) => s.outcome)]]),
  );
  const detail = md.slice(md.indexOf("## CI verified here"));
  assert.deepEqual(verdicts["elixir-ex"], ["verified", ["passed", "passed", "passed"]], detail);
  assert.deepEqual(verdicts["php-php"], ["verified", ["passed", "passed"]], detail);
  assert.deepEqual(verdicts["ruby-rb"], ["unverified", ["not run", "not run"]], detail);
  assert.match(detail, /- Test `mix test`: passed \(1 run, 1 passed, 0 failed: mix test\)/);
  assert.match(detail, /Install `bundle install`: not run \(it needs the network/);
  assert.equal(result.report.review?.verdict, "approve");
});
