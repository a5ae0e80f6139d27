import assert from "node:assert/strict";
import { join } from "node:path";
import {
  oneTestFile,
  Workspace,
  workspaceToolSpecs,
} from "../../actors/agents/kit/workspace_tools.ts";
import { changes } from "../../actors/agents/kit/tool_loop.ts";
import type { Detection, Project } from "../../actors/tasks/repo_facts.ts";

const NO_TESTS = { projects: [] } as unknown as Detection;

async function withCopy(fn: (original: string, ws: Workspace) => Promise<void>) {
  const root = await Deno.makeTempDir({ prefix: "troupe-ws-" });
  try {
    const original = join(root, "original");
    const copy = join(root, "copy");
    for (const dir of [original, copy]) {
      await Deno.mkdir(join(dir, "src"), { recursive: true });
      await Deno.writeTextFile(join(dir, "src", "a.ts"), "one\ntwo\nthree\ntwo\n");
      await Deno.writeTextFile(join(dir, "old.txt"), "old\n");
    }
    await fn(original, new Workspace(copy, NO_TESTS, 10_000, {}));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

Deno.test("the built-in tools read, search and edit the scratch copy only; bad calls are answers the model reads", () =>
  withCopy(async (original, ws) => {
    const specs = workspaceToolSpecs();
    assert.ok(specs.every((s) => s.parameters.type === "object"));
    assert.deepEqual(await ws.call("read_file", { path: "src/a.ts", start_line: 2, end_line: 3 }), {
      ok: true,
      text: "2: two\n3: three\n… (5 lines in all)",
    });
    assert.equal(
      (await ws.call("search", { pattern: "^tw(o)$" })).text,
      "src/a.ts:2: two\nsrc/a.ts:4: two",
    );
    // Outside the copy, and the copy's .git, are refused with what to give instead.
    const out = await ws.call("read_file", { path: "../original/old.txt" });
    assert.equal(out.ok, false);
    assert.match(out.text, /outside the repository; give a path relative to its root/);
    assert.equal((await ws.call("read_file", { path: "/etc/passwd" })).ok, false);
    // A link in the tree leading out of it (a repository the planner reads may hold one).
    await Deno.symlink(join(original, "old.txt"), join(ws.root, "src", "out.txt"));
    await Deno.symlink(original, join(ws.root, "away"));
    assert.match(
      (await ws.call("read_file", { path: "src/out.txt" })).text,
      /outside the repository/,
    );
    assert.match(
      (await ws.call("read_file", { path: "away/old.txt" })).text,
      /outside the repository/,
    );
    assert.equal((await ws.call("create_file", { path: "away/new.txt", content: "x" })).ok, false);
    await Deno.remove(join(ws.root, "src", "out.txt"));
    await Deno.remove(join(ws.root, "away"));
    // A string that is not unique is not replaced.
    const twice = await ws.call("replace", { path: "src/a.ts", old: "two", new: "2" });
    assert.deepEqual(twice, {
      ok: false,
      text: "the string occurs 2 times in src/a.ts; give one that occurs once",
    });
    assert.equal((await ws.call("read_file", {})).ok, false);
    assert.match((await ws.call("nope", {})).text, /there is no tool nope/);
    assert.match((await ws.call("search", { pattern: "(?<=x)" })).text, /search failed/);

    assert.equal((await ws.call("replace", { path: "src/a.ts", old: "three", new: "3" })).ok, true);
    assert.equal(
      (await ws.call("edit_lines", { path: "src/a.ts", start_line: 1, end_line: 1, text: "1" }))
        .ok,
      true,
    );
    assert.equal((await ws.call("create_file", { path: "src/b.ts", content: "new\n" })).ok, true);
    assert.equal((await ws.call("create_file", { path: "src/b.ts", content: "x" })).ok, false);
    assert.equal((await ws.call("delete_file", { path: "old.txt" })).ok, true);
    // Something a test run leaves behind is not part of the change.
    await Deno.writeTextFile(join(ws.root, "coverage.out"), "x");
    const { files, patch } = await changes(original, ws.root, ws.touched, "why");
    assert.deepEqual(files.map((f) => `${f.mode} ${f.path}`), [
      "delete old.txt",
      "replace src/a.ts",
      "create src/b.ts",
    ]);
    assert.match(patch, /-three\n\+3/);
    assert.match(patch, /\+\+\+ \/dev\/null/);
    assert.equal((await ws.call("run_tests", {})).text, "the project has no test command");
  }));

Deno.test("one test file runs with the project's own runner where it takes one", () => {
  const p = (type: string, test: string, dir = "."): Project =>
    ({ type, dir, manifest: "", test }) as Project;
  assert.equal(
    oneTestFile(p("python", "python -m pytest"), "tests/test_a.py"),
    "python -m pytest 'tests/test_a.py'",
  );
  assert.equal(
    oneTestFile(p("node", "npm test"), "test/a.test.js"),
    "npm test -- 'test/a.test.js'",
  );
  assert.equal(oneTestFile(p("go", "go test ./..."), "pkg/x/a_test.go"), "go test ./pkg/x");
  assert.equal(oneTestFile(p("rust", "cargo test"), "tests/api.rs"), "cargo test --test api");
  assert.equal(
    oneTestFile(p("node", "npm test", "web"), "web/t/a.test.js"),
    "npm test -- 't/a.test.js'",
  );
  assert.equal(oneTestFile(p("node", "npm test", "web"), "api/a.test.js"), null);
  assert.equal(oneTestFile(p("java", "mvn -B test"), "src/test/java/A.java"), null);
});
