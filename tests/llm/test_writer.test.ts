import assert from "node:assert/strict";
import { cp } from "node:fs/promises";
import { join } from "node:path";
import { createTwoFilesPatch } from "diff";
import { type RunResult, RunSession } from "../../actors/mod.ts";
import { type Behaviour, fakeOpenAI } from "../fake_models.ts";
import { withLedger } from "../ledger_helpers.ts";

Deno.env.set("TROUPE_WRITER_TEST_KEY", "sk-writer-test-0123456789");

const llm = (url: string) => ({
  providers: [{
    name: "fake",
    kind: "openai" as const,
    baseUrl: url,
    apiKeyEnv: "TROUPE_WRITER_TEST_KEY",
    models: ["writer-1"],
    maxRetries: 0,
  }],
});

const HEAD = 'import test from "node:test";\nimport assert from "node:assert";\n' +
  'import { add } from "../src/math.js";\n';

/** A model's answer adding one new test file. */
const newTest = (body: string) =>
  "```diff\n" +
  createTwoFilesPatch("/dev/null", "b/test/math.test.js", "", `${HEAD}${body}\n`) + "```";

/** The node fixture with `src/math.js` as given and the project's own test of it. */
async function repoWith(tmp: string, math: string, ownTest: string) {
  const repo = join(tmp, "repo");
  await cp(new URL("../fixtures/repos/node_app", import.meta.url).pathname, repo, {
    recursive: true,
  });
  await Deno.writeTextFile(join(repo, "src", "math.js"), math);
  await Deno.writeTextFile(join(repo, "test", "own.test.js"), `${HEAD}${ownTest}\n`);
  return repo;
}

async function run(repo: string, tmp: string, script: Behaviour[]) {
  let result: RunResult | undefined;
  await using fake = await fakeOpenAI(script);
  await withLedger(async (ledger) => {
    const session = await RunSession.start(ledger, {
      repo,
      out: join(tmp, "out"),
      goal: "fix add and test it",
      llm: llm(fake.url),
    });
    result = await session.run();
  });
  return { result: result!, requests: fake.requests };
}

const plan = (...tasks: { id: string; dependsOn: string[] }[]) => ({
  kind: "answer" as const,
  text: JSON.stringify({ tasks: tasks.map((t) => ({ ...t, kind: t.id })) }),
});

Deno.test("a new test that asserts nothing is not kept, though the project's own tests catch the mutant", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "troupe-writer-" });
  try {
    const repo = await repoWith(
      tmp,
      "export const add = (a, b) => a + b;\n",
      'test("own", () => assert.equal(add(1, 2), 3));',
    );
    const { result, requests } = await run(repo, tmp, [
      plan(
        { id: "write_tests", dependsOn: ["scan", "detect"] },
        { id: "review", dependsOn: ["scan", "assess", "write_tests"] },
      ),
      { kind: "answer", text: newTest('test("calls add", () => { add(1, 2); });') },
      { kind: "answer", text: newTest('test("adds", () => assert.equal(add(2, 3), 5));') },
    ]);
    const retry = (requests[2].body as { messages: { content: string }[] }).messages.at(-1)!;
    assert.match(retry.content, /still pass when the code they test is broken/);
    assert.equal(result.report.testsWritten?.attempts, 2);
    assert.match(result.files.find((f) => f.path === "test/math.test.js")!.content, /add\(2, 3\)/);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("the test writer tests the code the coder produced, and its failure does not skip the review of the coder's patch", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "troupe-writer-" });
  try {
    // The project's own test fails until `add` is fixed.
    const broken = "export const add = (a, b) => a - b;\n";
    const repo = await repoWith(tmp, broken, 'test("own", () => assert.equal(add(1, 2), 3));');
    const fix = "```diff\n" +
      createTwoFilesPatch("a/src/math.js", "b/src/math.js", broken, broken.replace("-", "+")) +
      "```";
    const steps = plan(
      { id: "code", dependsOn: ["scan", "detect"] },
      { id: "write_tests", dependsOn: ["scan", "detect"] },
      { id: "review", dependsOn: ["scan", "assess", "code", "write_tests"] },
    );
    const good = await run(repo, tmp, [
      steps,
      { kind: "answer", text: fix },
      { kind: "answer", text: newTest('test("adds", () => assert.equal(add(2, 3), 5));') },
    ]);
    assert.deepEqual(good.result.outcome.dead, []);
    assert.equal(good.result.report.testsWritten?.attempts, 1);
    assert.deepEqual(good.result.files.map((f) => f.path).sort(), [
      "src/math.js",
      "test/math.test.js",
    ]);
    const asked = (good.requests[2].body as { messages: { content: string }[] }).messages[1];
    assert.match(asked.content, /The coder changed the code with this patch/);
    // The report says who planned, what the coder changed, and whose the test files are.
    const md = await Deno.readTextFile(join(tmp, "out", "report.md"));
    assert.match(md, /## Planning\n\nPlanned by writer-1\./);
    assert.match(
      md,
      /## Code changed\n\nBy writer-1 in 1 model turn\(s\) and 1 finished attempt\(s\)[^\n]*\n\n- `src\/math\.js`/,
    );
    assert.match(
      md,
      /The project's tests with the change:\n\n- typescript \. `npm test`: \*\*passed\*\*/,
    );
    assert.match(md, /`test\/math\.test\.js` \(create\): tests a model wrote/);
    assert.match(md, /No price is known for writer-1: counted at \$0/);

    // A test writer that never manages: the coder's patch is still reviewed and reported.
    await Deno.remove(join(tmp, "out"), { recursive: true });
    const bad = await run(repo, tmp, [
      steps,
      { kind: "answer", text: fix },
      { kind: "answer", text: "I would rather not." },
    ]);
    assert.deepEqual(bad.result.outcome.dead.map((d) => d.taskId), ["write_tests"]);
    assert.equal(bad.result.report.review?.verdict, "approve");
    assert.deepEqual(bad.result.files.map((f) => f.path), ["src/math.js"]);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
