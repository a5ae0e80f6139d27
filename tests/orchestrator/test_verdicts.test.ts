import assert from "node:assert/strict";
import { join } from "node:path";
import { copyRepo, runOn, runsHere, writeFiles } from "../cli_helpers.ts";

/**
 * `troupe run --run-tests` on a copy of the node fixture whose test file is `test`, and whose
 * `npm test` is `script` when given.
 */
async function runTests(test: string, json: boolean, script?: string) {
  const tmp = await Deno.makeTempDir({ prefix: "troupe-verdict-" });
  try {
    const repo = await copyRepo("node_app", tmp);
    await Deno.writeTextFile(join(repo, "test", "add.test.js"), test);
    if (script) {
      const pkg = JSON.parse(await Deno.readTextFile(join(repo, "package.json")));
      pkg.scripts.test = script;
      await Deno.writeTextFile(join(repo, "package.json"), JSON.stringify(pkg));
    }
    const out = join(tmp, "out");
    const flags = ["--run-tests", ...(json ? ["--json"] : [])];
    const r = await runOn(repo, out, join(tmp, "ledger.duckdb"), ...flags);
    return { ...r, md: await Deno.readTextFile(join(out, "report.md")) };
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

const HEAD = 'import test from "node:test";\nimport assert from "node:assert";\n';

Deno.test("failing project tests are in report.md, the printed summary, the review and the exit code", async () => {
  const failing = `${HEAD}test("adds", () => assert.equal(1 + 1, 2));\n` +
    `test("subtracts", () => assert.equal(2 - 1, 3));\n`;
  const printed = await runTests(failing, false);
  assert.equal(printed.code, 1, printed.stderr);
  assert.match(printed.stdout, /review: block/);
  assert.match(printed.stdout, /tests run here:\n.*`npm test`.*failed.*2 run, 1 passed, 1 failed/);
  assert.match(
    printed.md,
    /## Tests run here\n\n.*failed.*2 run, 1 passed, 1 failed \(node --test\)/,
  );
  assert.match(
    printed.md,
    /- problem: the tests of typescript \. failed: `npm test` exit 1 \(node --test: 1 of 2 failed\)/,
  );

  const json = await runTests(failing, true);
  assert.equal(json.code, 1, json.stderr);
  const report = JSON.parse(json.stdout);
  assert.equal(report.review.verdict, "block");
  assert.equal(report.tests[0].verdict, "failed");
  assert.deepEqual(
    [report.tests[0].tests.ran, report.tests[0].tests.passed, report.tests[0].tests.failed],
    [2, 1, 1],
  );
});

Deno.test("a test command that runs no test is 'ran no test': not passed, noted in the review", async () => {
  // A placeholder script that exits 0 and runs nothing, as many young projects have.
  const r = await runTests(`${HEAD}// no test yet\n`, true, "echo no tests yet");
  const report = JSON.parse(r.stdout);
  assert.equal(report.tests[0].code, 0);
  assert.equal(report.tests[0].verdict, "ran no test");
  assert.equal(report.tests[0].passed, false);
  assert.equal(report.tests[0].tests, undefined);
  assert.ok(
    report.review.notes.some((n: string) =>
      /`npm test` \(typescript \.\) ran no test: it exited 0 but no test runner's summary/.test(n)
    ),
    report.review.notes.join("\n"),
  );
  assert.match(r.stdout, /"verdict": "ran no test"/);
});

Deno.test("a test command whose tool is not installed here 'could not run here', naming it: not 'failed', and the review does not block", async () => {
  const r = await runTests(
    `${HEAD}test("adds", () => assert.equal(1 + 1, 2));\n`,
    true,
    "uv run pytest",
  );
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.equal(report.tests[0].verdict, "could not run here");
  assert.equal(report.tests[0].why, "uv is not installed here");
  assert.notEqual(report.review.verdict, "block");
  assert.ok(
    report.review.notes.some((n: string) => /could not run here: uv is not installed here/.test(n)),
    report.review.notes.join("\n"),
  );
  assert.match(r.md, /`npm test`: \*\*could not run here\*\* \(uv is not installed here\)/);
});

Deno.test("a test command that needed the network 'could not run here', saying so: the sandbox has none", async () => {
  const lookup = "require('node:dns').lookup('registry.npmjs.org', (e) => " +
    "{ if (e) { console.error(e.message); process.exit(1); } })";
  const r = await runTests(
    `${HEAD}test("adds", () => assert.equal(1 + 1, 2));\n`,
    true,
    `node -e "${lookup}" && node --test`,
  );
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.equal(report.tests[0].verdict, "could not run here");
  assert.match(
    report.tests[0].why,
    /^it needs the network, which the sandbox does not have \(getaddrinfo \w+ registry\.npmjs\.org\)$/,
  );
  assert.notEqual(report.review.verdict, "block");
});

Deno.test("a project's tests see the rest of the repository: a folder's test that imports its neighbour runs and passes", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "troupe-neighbour-" });
  try {
    const repo = join(tmp, "repo");
    const files: Record<string, string> = {
      "shared/add.js": "export const add = (a, b) => a + b;\n",
      "app/package.json": JSON.stringify({
        name: "app",
        type: "module",
        scripts: { test: "node --test" },
      }),
      "app/test/add.test.js": `${HEAD}import { add } from "../../shared/add.js";\n` +
        `test("adds", () => assert.equal(add(1, 2), 3));\n`,
    };
    await writeFiles(repo, files);
    const r = await runOn(repo, join(tmp, "out"), join(tmp, "l.duckdb"), "--run-tests", "--json");
    assert.equal(r.code, 0, r.stderr);
    const [run] = JSON.parse(r.stdout).tests;
    assert.equal(run.project, "node app");
    assert.equal(run.verdict, "passed", run.tail);
    assert.equal(run.tests.passed, 1);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("a project's installed tools run in its tests (node_modules/.bin's links are copied); a link leading out of the repository is not", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "troupe-bin-" });
  try {
    const repo = join(tmp, "repo");
    await writeFiles(repo, {
      "package.json": JSON.stringify({
        name: "app",
        type: "module",
        scripts: { test: "check-all && test ! -L leak && test ! -L up" },
      }),
      "node_modules/check-all/run.sh": '#!/bin/sh\nexec node --test "$@"\n',
      "test/add.test.js": `${HEAD}test("adds", () => assert.equal(1 + 1, 2));\n`,
    });
    await Deno.writeTextFile(join(tmp, "outside.txt"), "not the repository's");
    await Deno.chmod(join(repo, "node_modules/check-all/run.sh"), 0o755);
    await Deno.mkdir(join(repo, "node_modules/.bin"));
    await Deno.symlink("../check-all/run.sh", join(repo, "node_modules/.bin/check-all"));
    await Deno.symlink(join(tmp, "outside.txt"), join(repo, "leak"));
    await Deno.symlink("../outside.txt", join(repo, "up"));
    const r = await runOn(repo, join(tmp, "out"), join(tmp, "l.duckdb"), "--run-tests", "--json");
    assert.equal(r.code, 0, r.stderr);
    const [run] = JSON.parse(r.stdout).tests;
    assert.equal(run.verdict, "passed", run.tail);
    assert.equal(run.tests.passed, 1);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("a Python project whose runner (uv) is not installed here is tested by this machine's pytest in its place, and said to be; with a module missing, it could not run", async () => {
  if (
    await runsHere("uv", "--version") || !await runsHere("python3", "-m", "pytest", "--version")
  ) {
    console.log(
      "could not check: uv is installed here, or pytest is not (apt-get install python3-pytest)",
    );
    return;
  }
  const tmp = await Deno.makeTempDir({ prefix: "troupe-in-place-" });
  try {
    const repo = join(tmp, "repo");
    // A src layout: the package imports only from src/ on the path, as uv would install it.
    await writeFiles(repo, {
      "pyproject.toml": '[project]\nname = "calc"\nversion = "1.0"\n\n' +
        '[dependency-groups]\ndev = ["pytest"]\n',
      "uv.lock": "version = 1\n",
      "src/calc/__init__.py": "def add(a, b):\n    return a + b\n",
      "tests/test_calc.py":
        "from calc import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n\n\n" +
        "def test_zero():\n    assert add(0, 0) == 0\n",
    });
    const run = async () => {
      const r = await runOn(repo, join(tmp, "out"), join(tmp, "l.duckdb"), "--run-tests", "--json");
      return { ...r, md: await Deno.readTextFile(join(tmp, "out", "report.md")) };
    };
    const r = await run();
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    const [t] = report.tests;
    assert.equal(t.verdict, "passed", t.tail);
    assert.equal(t.command, "python3 -m pytest");
    assert.deepEqual([t.tests.ran, t.tests.passed], [2, 2]);
    assert.match(t.inPlaceOf.command, /^uv run /);
    assert.equal(t.inPlaceOf.why, "uv is not installed here");
    assert.match(
      r.md,
      /- python \. `python3 -m pytest` in place of `uv run [^`]+` \(uv is not installed here\): \*\*passed\*\*: 2 run, 2 passed/,
    );
    assert.ok(
      report.review.notes.some((n: string) => /instead, without what it installs/.test(n)),
      report.review.notes.join("\n"),
    );

    // A test module needs what uv would have installed: nothing runs, and the run says why.
    await writeFiles(repo, { "tests/test_time.py": "import freezegun_not_here\n" });
    const missing = await run();
    assert.equal(missing.code, 0, missing.stderr);
    const [m] = JSON.parse(missing.stdout).tests;
    assert.equal(m.verdict, "could not run here");
    assert.match(m.command, /^uv run /);
    assert.equal(
      m.why,
      "uv is not installed here; nor under this machine's pytest " +
        "(ModuleNotFoundError: No module named 'freezegun_not_here')",
    );
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
