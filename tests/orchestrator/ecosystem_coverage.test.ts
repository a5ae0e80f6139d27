import assert from "node:assert/strict";
import { detect } from "../../actors/agents/detector.ts";
import { scan } from "../../actors/agents/scanner.ts";
import { runTests, type TestRun } from "../../actors/agents/kit/run_tests.ts";
import { runsHere, writeFiles } from "../cli_helpers.ts";

/** Each project's tests as the tester runs them: detected, sandboxed, coverage measured. */
async function testRepo(files: Record<string, string>): Promise<TestRun[]> {
  const repo = await Deno.makeTempDir({ prefix: "troupe-ecocov-" });
  try {
    await writeFiles(repo, files);
    return await runTests(repo, detect(await scan(repo)), 240_000, {}, { coverage: true });
  } finally {
    await Deno.remove(repo, { recursive: true });
  }
}

/** Whether `python3` from the system folders (what the sandbox sees) imports both modules. */
async function systemPython(...modules: string[]): Promise<boolean> {
  const r = await new Deno.Command("/usr/bin/python3", {
    args: ["-c", modules.map((m) => `import ${m}`).join("; ")],
    stdout: "null",
    stderr: "null",
  }).output().catch(() => ({ success: false }));
  return r.success;
}

Deno.test("a Deno project's tests run with troupe's own Deno in the sandbox, measured by deno coverage: untested lines count against it", async () => {
  const [run] = await testRepo({
    "deno.json": "{}",
    "math.ts": "export function half(n: number): number {\n  if (n < 0) {\n    return 0;\n" +
      "  }\n  return n / 2;\n}\n",
    "math_test.ts": 'import { half } from "./math.ts";\n' +
      'Deno.test("half", () => { if (half(4) !== 2) throw new Error("no"); });\n',
  });
  assert.equal(run.verdict, "passed", run.tail);
  assert.equal(run.tests?.runner, "deno test");
  assert.ok(run.coverage, run.tail);
  assert.equal(run.coverage.tool, "deno coverage");
  // math.ts's six lines, the test file left out; `return 0` never ran.
  assert.equal(run.coverage.linesTotal, 6, JSON.stringify(run.coverage));
  assert.ok(
    run.coverage.linesCovered > 0 && run.coverage.linesCovered < 6,
    JSON.stringify(run.coverage),
  );
});

Deno.test("a Python project's tests are measured by coverage.py (python -m pytest under coverage run), test files left out", async () => {
  const shared = {
    "pyproject.toml": '[project]\nname = "calc"\nversion = "0.1.0"\n' +
      '[project.optional-dependencies]\ntest = ["pytest"]\n',
    "calc/__init__.py": "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n" +
      "    if a < b:\n        return 0\n    return a - b\n",
  };
  const [full] = await testRepo({
    ...shared,
    "tests/test_calc.py": "from calc import add, sub\n\n\ndef test_add():\n" +
      "    assert add(1, 2) == 3\n\n\ndef test_sub():\n    assert sub(1, 2) == 0\n" +
      "    assert sub(3, 1) == 2\n",
  });
  if (!(await systemPython("pytest", "coverage"))) {
    // The tests ran without coverage.py: nothing is made up.
    assert.equal(full.coverage, undefined, full.tail);
    console.log("could not check coverage.py: install python3-pytest and python3-coverage");
    return;
  }
  assert.equal(full.verdict, "passed", full.tail);
  assert.deepEqual(full.coverage, {
    tool: "coverage.py",
    linesCovered: 6,
    linesTotal: 6,
    pct: 100,
  });
  const [part] = await testRepo({
    ...shared,
    "tests/test_calc.py": "from calc import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n",
  });
  assert.equal(part.verdict, "passed", part.tail);
  assert.equal(part.coverage?.tool, "coverage.py");
  assert.equal(part.coverage?.linesTotal, 6);
  assert.ok(part.coverage!.linesCovered < 6, JSON.stringify(part.coverage));
});

Deno.test("a Go module's tests are measured by go test's coverage profile, in statements", async () => {
  const go = await runsHere("go", "version");
  const [run] = await testRepo({
    "go.mod": "module example.com/calc\n\ngo 1.19\n",
    "calc.go": "package calc\n\nfunc Sub(a, b int) int {\n\tif a < b {\n\t\treturn 0\n\t}\n" +
      "\treturn a - b\n}\n",
    "calc_test.go": 'package calc\n\nimport "testing"\n\nfunc TestSub(t *testing.T) {\n' +
      '\tif Sub(3, 1) != 2 {\n\t\tt.Fatal("no")\n\t}\n}\n\n' +
      'func TestSame(t *testing.T) {\n\tif Sub(2, 2) != 0 {\n\t\tt.Fatal("no")\n\t}\n}\n',
  });
  if (!go) {
    assert.equal(run.coverage, undefined);
    console.log(
      "could not check go test's coverage: Go is not installed (apt-get install golang-go)",
    );
    return;
  }
  assert.equal(run.verdict, "passed", run.tail);
  // Each test counted (go test without -v names only the package).
  assert.deepEqual([run.tests?.ran, run.tests?.passed], [2, 2], run.tail);
  assert.equal(run.coverage?.tool, "go test -coverprofile");
  assert.equal(run.coverage?.unit, "statements");
  // Three statements: the if, the early return (never run), the last return.
  assert.deepEqual([run.coverage?.linesCovered, run.coverage?.linesTotal], [2, 3]);
});
