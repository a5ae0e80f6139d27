import assert from "node:assert/strict";
import { join } from "node:path";
import { countReports, countTests, testVerdict } from "../../actors/agents/kit/test_count.ts";

// Each runner's summary as the runner prints it (the last lines of a real run's output).
const SAMPLES: [string, string, [ran: number, passed: number, failed: number, skipped: number]][] =
  [
    [
      "pytest",
      "collected 4 items\n\ntests/test_a.py ..F.\n=========================== short test summary info ============================\nFAILED tests/test_a.py::test_c - assert 1 == 2\n========================= 1 failed, 3 passed in 0.05s ==========================",
      [4, 3, 1, 0],
    ],
    [
      "pytest",
      "collected 0 items\n\n============================ no tests ran in 0.01s =============================",
      [0, 0, 0, 0],
    ],
    [
      "pytest",
      "==================== 5 passed, 2 skipped, 1 warning in 1.20s ====================",
      [5, 5, 0, 2],
    ],
    [
      "unittest",
      "....\n----------------------------------------------------------------------\nRan 4 tests in 0.001s\n\nOK",
      [4, 4, 0, 0],
    ],
    [
      "unittest",
      "F.\n----------------------------------------------------------------------\nRan 2 tests in 0.001s\n\nFAILED (failures=1)",
      [2, 1, 1, 0],
    ],
    [
      "cargo test",
      "running 3 tests\ntest a ... ok\ntest b ... ok\ntest c ... ok\n\ntest result: ok. 3 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s\n\n   Doc-tests mycrate\n\nrunning 1 test\ntest src/lib.rs - add (line 3) ... ok\n\ntest result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.21s",
      [4, 4, 0, 0],
    ],
    [
      "go test",
      "ok  \texample.com/m/a\t0.003s\n?   \texample.com/m/cmd\t[no test files]\n--- FAIL: TestB (0.00s)\n    b_test.go:9: want 2\nFAIL\nFAIL\texample.com/m/b\t0.002s\nFAIL",
      [2, 1, 1, 0],
    ],
    ["go test", "?   \texample.com/m\t[no test files]", [0, 0, 0, 0]],
    [
      "go test -v",
      "=== RUN   TestA\n--- PASS: TestA (0.00s)\n=== RUN   TestB\n--- SKIP: TestB (0.00s)\nPASS\nok  \texample.com/m\t0.002s",
      [1, 1, 0, 1],
    ],
    [
      "ctest",
      "Test project /w/build\n    Start 1: unit\n1/1 Test #1: unit .............   Passed    0.00 sec\n\n100% tests passed, 0 tests failed out of 1\n\nTotal Test time (real) =   0.00 sec",
      [1, 1, 0, 0],
    ],
    ["ctest", "Test project /w/build\nNo tests were found!!!", [0, 0, 0, 0]],
    [
      "node --test (tap)",
      "TAP version 13\nok 1 - adds\nnot ok 2 - subtracts\n1..2\n# tests 2\n# suites 0\n# pass 1\n# fail 1\n# cancelled 0\n# skipped 0\n# todo 0\n# duration_ms 41.2",
      [2, 1, 1, 0],
    ],
    [
      "node --test (spec)",
      "✔ adds (0.5ms)\nℹ tests 3\nℹ suites 0\nℹ pass 3\nℹ fail 0\nℹ cancelled 0\nℹ skipped 0\nℹ todo 0\nℹ duration_ms 50.1",
      [3, 3, 0, 0],
    ],
    [
      "vitest",
      " ✓ test/a.test.ts (2 tests) 3ms\n\n Test Files  1 passed (1)\n      Tests  1 failed | 2 passed (3)\n   Start at  10:00:00\n   Duration  300ms",
      [3, 2, 1, 0],
    ],
    ["vitest", "No test files found, exiting with code 1", [0, 0, 0, 0]],
    [
      "jest",
      "PASS test/a.test.js\nTest Suites: 1 passed, 1 total\nTests:       1 skipped, 2 passed, 3 total\nSnapshots:   0 total\nTime:        0.5 s",
      [2, 2, 0, 1],
    ],
    [
      "mocha",
      "\n\n  ✔ a\n  1) b\n  - c\n  ✔ d\n\n  2 passing (4ms)\n  1 pending\n  1 failing\n\n  1) b:\n     AssertionError [ERR_ASSERTION]: 1 == 2",
      [3, 2, 1, 1],
    ],
    [
      "uvu",
      "\x1b[1m\x1b[4mt.js\x1b[24m\x1b[22m\n\n  Total:     3\x1b[31m\n  Passed:    2\x1b[39m\n  Skipped:   \x1b[33m1\x1b[39m\n  Duration:  3.87ms\n",
      [3, 2, 1, 1],
    ],
    [
      "AVA",
      "\n  - [skip] c\n  - [todo] e\n  ✔ a\n  ✘ [fail]: b\n  ✔ d\n  ─\n\n  b\n\n  a/t.test.mjs:2\n\n  ─\n\n  1 test failed\n  1 test skipped\n  1 test todo",
      [3, 2, 1, 2],
    ],
    ["AVA", "\n  ✔ a\n  ✔ b\n  ─\n\n  2 tests passed", [2, 2, 0, 0]],
    [
      "tape (assertions)",
      "ok 2 should be strictly equal\n# b\nnot ok 3 should be strictly equal\n  ---\n  ...\n# SKIP c\n\n1..3\n# tests 3\n# pass  2\n# fail  1\n",
      [3, 2, 1, 0],
    ],
    [
      "tape (assertions)",
      "ok 1 should be strictly equal\n\n1..1\n# tests 1\n# pass  1\n\n# ok\n",
      [1, 1, 0, 0],
    ],
    [
      "bun test",
      "test/a.test.ts:\n✓ adds [0.10ms]\n\n 2 pass\n 1 fail\n 3 expect() calls\nRan 3 tests across 1 file. [12.00ms]",
      [3, 2, 1, 0],
    ],
    [
      "Maven Surefire",
      "[INFO] Tests run: 2, Failures: 0, Errors: 0, Skipped: 0, Time elapsed: 0.02 s - in a.ATest\n[INFO] Tests run: 3, Failures: 1, Errors: 0, Skipped: 1, Time elapsed: 0.01 s - in a.BTest\n[INFO] Results:\n[ERROR] Tests run: 5, Failures: 1, Errors: 0, Skipped: 1",
      [4, 3, 1, 1],
    ],
    [
      "PHPUnit",
      "PHPUnit 11.0.0 by Sebastian Bergmann and contributors.\n\n...                                                                 3 / 3 (100%)\n\nTime: 00:00.010, Memory: 8.00 MB\n\nOK (3 tests, 5 assertions)",
      [3, 3, 0, 0],
    ],
    ["PHPUnit", "FAILURES!\nTests: 4, Assertions: 6, Failures: 1, Skipped: 1.", [3, 2, 1, 1]],
    ["PHPUnit", "No tests executed!", [0, 0, 0, 0]],
    [
      "mix test",
      "..\nFinished in 0.03 seconds (0.02s async, 0.01s sync)\n1 doctest, 4 tests, 1 failure\n\nRandomized with seed 1234",
      [5, 4, 1, 0],
    ],
    [
      "RSpec",
      "Finished in 0.01 seconds (files took 0.1 seconds to load)\n6 examples, 1 failure, 1 pending",
      [5, 4, 1, 1],
    ],
    [
      "dotnet test",
      "Passed!  - Failed:     0, Passed:     7, Skipped:     1, Total:     8, Duration: 30 ms - Lib.Tests.dll (net8.0)",
      [7, 7, 0, 1],
    ],
    ["deno test", "ok | 9 passed (2 steps) | 0 failed | 1 ignored (120ms)", [9, 9, 0, 1]],
    ["deno test", "FAILED | 3 passed | 2 failed (50ms)", [5, 3, 2, 0]],
  ];

Deno.test("each runner's own summary is read: tests run, passed, failed, skipped", () => {
  for (const [runner, output, [ran, passed, failed, skipped]] of SAMPLES) {
    const c = countTests(`\x1b[32m${output}\x1b[0m\n`);
    assert.ok(c, `${runner}: no summary read`);
    assert.deepEqual(
      [c.ran, c.passed, c.failed, c.skipped],
      [ran, passed, failed, skipped],
      runner,
    );
  }
  assert.equal(countTests("make: Nothing to be done for 'all'.\n"), undefined);
  assert.equal(countTests("py: commands succeeded\ncongratulations :)"), undefined);
});

Deno.test("only a run that reported a test and no failure passes; zero tests is not a pass", () => {
  const c = (ran: number, failed: number) => ({
    runner: "x",
    ran,
    passed: ran - failed,
    failed,
    skipped: 0,
  });
  assert.equal(testVerdict(0, c(3, 0)), "passed");
  assert.equal(testVerdict(0, c(0, 0)), "ran no test");
  assert.equal(testVerdict(0, undefined), "ran no test");
  assert.equal(testVerdict(0, c(3, 1)), "failed");
  assert.equal(testVerdict(1, c(3, 0)), "failed");
  assert.equal(testVerdict(null, undefined), "failed");
});

Deno.test("JUnit XML reports (Gradle, Maven) are counted when the output has no summary", async () => {
  const dir = await Deno.makeTempDir({ prefix: "troupe-junit-" });
  try {
    assert.equal(await countReports(dir), undefined);
    const results = join(dir, "app", "build", "test-results", "test");
    await Deno.mkdir(results, { recursive: true });
    await Deno.writeTextFile(
      join(results, "TEST-a.AppTest.xml"),
      '<?xml version="1.0" encoding="UTF-8"?>\n<testsuite name="a.AppTest" tests="4" skipped="1" failures="1" errors="0" time="0.01"><testcase name="x"/></testsuite>',
    );
    const surefire = join(dir, "target", "surefire-reports");
    await Deno.mkdir(surefire, { recursive: true });
    await Deno.writeTextFile(
      join(surefire, "TEST-b.BTest.xml"),
      '<testsuite name="b.BTest" tests="2" skipped="0" failures="0" errors="0"></testsuite>',
    );
    const c = await countReports(dir);
    assert.deepEqual(c, { runner: "JUnit XML reports", ran: 5, passed: 4, failed: 1, skipped: 1 });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
