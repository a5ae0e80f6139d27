import assert from "node:assert/strict";
import { cp } from "node:fs/promises";
import { join } from "node:path";
import { createTwoFilesPatch } from "diff";
import { RunSession } from "../../actors/mod.ts";
import { cli } from "../cli_helpers.ts";
import { type Behaviour, fakeOpenAI } from "../fake_models.ts";
import { withLedger } from "../ledger_helpers.ts";
import type { Ledger } from "../../ledger/mod.ts";

const GO = new URL("../fixtures/repos/go_mod", import.meta.url).pathname;
Deno.env.set("TROUPE_PLAN_TEST_KEY", "sk-plan-test-0123456789");

const PLAN = {
  tasks: [
    { id: "plan_repairs", kind: "plan_repairs", dependsOn: ["assess"] },
    { id: "generate_ci", kind: "generate_ci", dependsOn: ["detect", "plan_repairs"] },
  ],
  rationale: "CI first; docs can wait",
};

const llm = (url: string) => ({
  providers: [{
    name: "fake",
    kind: "openai" as const,
    baseUrl: url,
    apiKeyEnv: "TROUPE_PLAN_TEST_KEY",
    models: ["planner-1"],
    maxRetries: 0,
  }],
  prices: { "planner-1": { input: 1, output: 2 } },
});

async function runWith(ledger: Ledger, url: string) {
  const out = await Deno.makeTempDir({ prefix: "troupe-llm-" });
  const news: string[] = [];
  const session = await RunSession.start(ledger, {
    repo: GO,
    out,
    goal: "add CI to this repository",
    llm: llm(url),
  }, { onNews: (t) => news.push(t) });
  const result = await session.run();
  const tasks = (await ledger.query(
    `SELECT task_id FROM task_outcomes WHERE run_id = '${result.runId}' AND outcome = 'succeeded' ORDER BY task_id`,
  )).rows.map((r) => r.task_id);
  await Deno.remove(out, { recursive: true });
  return { result, news, tasks };
}

Deno.test("a model's valid plan is run: only its steps after the facts, its calls and tokens in the ledger", () =>
  withLedger(async (ledger) => {
    await using fake = await fakeOpenAI([{
      kind: "answer",
      text: JSON.stringify(PLAN),
      model: "planner-1-2026",
      usage: { input: 900, output: 60 },
    }]);
    const { result, tasks } = await runWith(ledger, fake.url);
    assert.equal(result.ok, true);
    assert.deepEqual(result.plannedBy, { source: "model", model: "planner-1-2026" });
    // The report has a cost section: calls, tokens and dollars by the model that answered.
    assert.deepEqual(result.report.cost, {
      calls: 1,
      inputTokens: 900,
      outputTokens: 60,
      costUsd: (900 * 1 + 60 * 2) / 1e6,
      byModel: {
        "planner-1-2026": {
          calls: 1,
          inputTokens: 900,
          outputTokens: 60,
          costUsd: (900 * 1 + 60 * 2) / 1e6,
        },
      },
    });
    assert.deepEqual(tasks, ["assess", "detect", "generate_ci", "plan_repairs", "scan"]);
    // The model saw the goal and the facts the first tasks found.
    const asked = fake.requests[0].body as {
      messages: { content: string }[];
      response_format: unknown;
    };
    assert.match(asked.messages[1].content, /add CI to this repository/);
    assert.match(asked.messages[1].content, /"type": "go"/);
    assert.deepEqual(asked.response_format, { type: "json_object" });
    const calls = await ledger.query(
      `SELECT "gen_ai.request.model" AS model, "gen_ai.usage.input_tokens" AS input,
              "gen_ai.usage.output_tokens" AS output, cost_usd FROM llm_usage`,
    );
    assert.deepEqual(calls.rows, [
      { model: "planner-1", input: 900, output: 60, cost_usd: (900 * 1 + 60 * 2) / 1e6 },
    ]);
    // The planner says how much the task asks, by the repository's size (a few files: low).
    const said = await ledger.query(
      "SELECT payload->>'complexity' AS complexity FROM events WHERE type = 'llm_call'",
    );
    assert.deepEqual(said.rows, [{ complexity: "low" }]);
    const planned = await ledger.query(
      `SELECT payload->>'source' AS source, payload->>'model' AS model FROM events
       WHERE type = 'run_planned' ORDER BY seq`,
    );
    assert.deepEqual(planned.rows, [
      { source: "offline", model: null },
      { source: "model", model: "planner-1-2026" },
    ]);
  }));

Deno.test("an invalid plan goes back to the model with what is wrong, and the corrected one runs", () =>
  withLedger(async (ledger) => {
    const wrong = {
      tasks: [
        { id: "deploy", kind: "deploy", dependsOn: [] },
        { id: "generate_ci", kind: "generate_ci", dependsOn: ["detect"] },
      ],
    };
    await using fake = await fakeOpenAI([
      { kind: "answer", text: "```json\n" + JSON.stringify(wrong) + "\n```" },
      { kind: "answer", text: JSON.stringify(PLAN) },
    ]);
    const { result } = await runWith(ledger, fake.url);
    assert.equal(result.plannedBy.source, "model");
    assert.equal(fake.requests.length, 2);
    const retry = (fake.requests[1].body as { messages: { role: string; content: string }[] })
      .messages;
    assert.equal(retry.at(-2)!.role, "assistant");
    assert.match(retry.at(-1)!.content, /unknown kind "deploy"/);
    assert.match(retry.at(-1)!.content, /generate_ci: it reads the output of plan_repairs/);
    const attempts = await ledger.query(
      "SELECT payload->>'ok' AS ok FROM events WHERE type = 'plan_attempted' ORDER BY seq",
    );
    assert.deepEqual(attempts.rows.map((r) => r.ok), ["false", "true"]);
  }));

for (
  const [what, script, reason] of [
    [
      "answers nonsense",
      [{ kind: "answer", text: "I would start by reading the code carefully." }],
      /still invalid after 3 attempts: the answer is not a JSON object/,
    ],
    ["is down", null, /could not be asked: fake \(planner-1\) could not be reached/],
  ] as [string, Behaviour[] | null, RegExp][]
) {
  Deno.test(`when the model ${what}, the run finishes with the offline plan and says why`, () =>
    withLedger(async (ledger) => {
      const fake = await fakeOpenAI(script ?? [{ kind: "answer", text: "{}" }]);
      if (!script) await fake.close();
      try {
        const { result, news, tasks } = await runWith(ledger, fake.url);
        // A model answered (wrongly), or none did: only then is the run not ok.
        assert.equal(result.ok, script !== null);
        assert.equal(result.plannedBy.source, "offline");
        assert.match(result.plannedBy.fallback!, reason);
        assert.ok(news.some((n) => /the offline plan runs instead/.test(n)));
        assert.ok(tasks.includes("review") && tasks.includes("write_docs"), tasks.join());
        const fallback = await ledger.query(
          "SELECT payload->>'reason' AS reason FROM events WHERE type = 'plan_fallback'",
        );
        assert.match(String(fallback.rows[0].reason), reason);
      } finally {
        if (script) await fake.close();
      }
    }));
}

Deno.test("deno task run --llm openai --model M plans with an OpenAI-compatible server named by OPENAI_BASE_URL", async () => {
  await using fake = await fakeOpenAI([{ kind: "answer", text: JSON.stringify(PLAN) }]);
  const tmp = await Deno.makeTempDir({ prefix: "troupe-llm-cli-" });
  try {
    const ledger = join(tmp, "ledger.duckdb");
    const r = await cli(
      [
        "run",
        "add CI to this repository",
        "--repo",
        GO,
        "--out",
        join(tmp, "out"),
        "--ledger",
        ledger,
        "--llm",
        "openai",
        "--model",
        "planner-1",
      ],
      { env: { OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: "sk-cli-test-0123456789" } },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /planned by planner-1/);
    assert.equal(fake.requests[0].authorization, "Bearer sk-cli-test-0123456789");
    const sql = await cli([
      "sql",
      `SELECT count(*) AS calls FROM llm_usage WHERE "gen_ai.usage.input_tokens" = 42`,
      "--ledger",
      ledger,
      "--format",
      "json",
    ]);
    assert.deepEqual(JSON.parse(sql.stdout), [{ calls: 1 }]);
    const everything = await cli([
      "sql",
      "SELECT * FROM events",
      "--ledger",
      ledger,
      "--format",
      "csv",
    ]);
    assert.ok(
      !everything.stdout.includes("sk-cli-test-0123456789"),
      "the key is not in the ledger",
    );
    const bad = await cli(["run", "--llm", "openai", "--ledger", ledger]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--llm needs --model NAME/);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("the coder's patch is tried on a scratch copy, failing tests go back to the model, and the passing patch is reviewed and written to --out", () =>
  withLedger(async (ledger) => {
    const tmp = await Deno.makeTempDir({ prefix: "troupe-coder-" });
    try {
      const repo = join(tmp, "repo");
      await cp(new URL("../fixtures/repos/node_app", import.meta.url).pathname, repo, {
        recursive: true,
      });
      const validate = () =>
        "export function requireNumber(x) {\n" +
        '  if (typeof x !== "number" || Number.isNaN(x)) throw new TypeError("not a number");\n' +
        "  return x;\n}\n";
      const testFile = (expect: string) =>
        'import test from "node:test";\nimport assert from "node:assert";\n' +
        'import { requireNumber } from "../src/validate.js";\n' +
        `test("validates", () => assert.equal(requireNumber(2), ${expect}));\n`;
      const patch = (expect: string) =>
        "```diff\n" +
        createTwoFilesPatch("/dev/null", "b/src/validate.js", "", validate()) +
        createTwoFilesPatch("/dev/null", "b/test/validate.test.js", "", testFile(expect)) +
        "```";
      const plan = {
        tasks: [
          { id: "code", kind: "code", dependsOn: ["scan", "detect"] },
          { id: "review", kind: "review", dependsOn: ["scan", "assess", "code"] },
        ],
      };
      await using fake = await fakeOpenAI([
        { kind: "answer", text: JSON.stringify(plan) },
        { kind: "answer", text: "Here is the change:\n" + patch("3") }, // its own test fails
        { kind: "answer", text: patch("2") },
      ]);
      const session = await RunSession.start(ledger, {
        repo,
        out: join(tmp, "out"),
        goal: "add input validation",
        llm: llm(fake.url),
      });
      const result = await session.run();
      assert.equal(result.ok, true, JSON.stringify(result.outcome.dead));
      assert.deepEqual(result.report.code?.attempts, 2);
      assert.equal(result.report.review?.verdict, "approve");
      assert.deepEqual(result.files.map((f) => `${f.mode} ${f.path}`), [
        "create src/validate.js",
        "create test/validate.test.js",
      ]);
      // The second request told the model how its tests failed.
      const retry = (fake.requests[2].body as { messages: { content: string }[] }).messages;
      assert.match(
        retry.at(-1)!.content,
        /With your change the tests fail:\n\$ npm test: failed/,
      );
      // The repository is untouched; the change is in --out, as files and as a patch.
      await assert.rejects(Deno.stat(join(repo, "src", "validate.js")));
      const written = await Deno.readTextFile(
        join(tmp, "out", "files", "test", "validate.test.js"),
      );
      assert.match(written, /requireNumber\(2\), 2\)/);
      const changes = await Deno.readTextFile(join(tmp, "out", "changes.patch"));
      assert.match(changes, /\+\+\+ b\/src\/validate\.js/);
      const roles = await ledger.query(
        "SELECT agent_role FROM llm_usage WHERE outcome = 'ok' ORDER BY ts",
      );
      assert.deepEqual(roles.rows.map((r) => r.agent_role), ["planner", "coder", "coder"]);
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  }));

Deno.test("private code goes only to local providers: a policy decision, recorded, routes the planner there", () =>
  withLedger(async (ledger) => {
    const tmp = await Deno.makeTempDir({ prefix: "troupe-private-" });
    try {
      await using hosted = await fakeOpenAI([{ kind: "answer", text: JSON.stringify(PLAN) }]);
      await using local = await fakeOpenAI([{ kind: "answer", text: JSON.stringify(PLAN) }]);
      const policy = join(tmp, "private.yaml");
      await Deno.writeTextFile(
        policy,
        [
          "name: private-code",
          "rules:",
          "  - id: no-models-outside",
          "    match: { action: llm.call }",
          "    effect: deny",
        ].join("\n"),
      );
      const config = llm(hosted.url);
      const providers = [
        config.providers[0],
        { ...config.providers[0], name: "ollama", baseUrl: local.url, local: true },
      ];
      const news: string[] = [];
      const session = await RunSession.start(ledger, {
        repo: GO,
        out: join(tmp, "out"),
        goal: "add CI to this repository",
        policies: [policy],
        llm: { ...config, providers },
      }, { onNews: (t) => news.push(t) });
      const result = await session.run();
      assert.deepEqual(result.plannedBy.source, "model");
      assert.equal(hosted.requests.length, 0, "the hosted provider saw nothing");
      assert.equal(local.requests.length, 1);
      assert.ok(news.some((n) => /private to models .*only local providers/.test(n)));
      const decisions = await ledger.query(
        `SELECT json_extract_string(payload, '$.effect') AS effect FROM events
         WHERE type = 'policy_decision'
           AND json_extract_string(payload, '$.request.action') = 'llm.call'`,
      );
      assert.deepEqual(decisions.rows, [{ effect: "deny" }]);
      const calls = await ledger.query("SELECT provider FROM llm_usage");
      assert.deepEqual(calls.rows, [{ provider: "ollama" }]);
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  }));

Deno.test("a spent budget stops paying for models: the next call is refused with the figures, and the run falls back", () =>
  withLedger(async (ledger) => {
    const tmp = await Deno.makeTempDir({ prefix: "troupe-budget-" });
    try {
      // The plan is invalid, so the planner asks again; the first answer spends the budget.
      await using fake = await fakeOpenAI([{
        kind: "answer",
        text: '{"tasks": [{"id": "x", "kind": "deploy"}]}',
        usage: { input: 1000, output: 1000 },
      }]);
      const session = await RunSession.start(ledger, {
        repo: GO,
        out: join(tmp, "out"),
        goal: "add CI to this repository",
        // A call may cost up to 4096 answer tokens at $2 a million ($0.0082): the first fits
        // the budget, the second would not once the first has spent $0.002.
        llm: {
          ...llm(fake.url),
          prices: { "planner-1": { input: 0, output: 2 } },
          budgetUsd: 0.009,
        },
      });
      const result = await session.run();
      assert.equal(result.ok, true);
      assert.equal(fake.requests.length, 1, "no second paid call");
      assert.match(
        result.plannedBy.fallback!,
        /no model may be asked: the run's budget would be overspent \(\$0\.0020 spent of \$0\.009, and this call may cost up to \$0\.0082\)/,
      );
      const spend = await ledger.query("SELECT sum(cost_usd) AS usd FROM llm_usage");
      assert.deepEqual(spend.rows, [{ usd: 0.002 }]);
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  }));

Deno.test("the test writer keeps only tests that pass on the code and fail when it is broken", () =>
  withLedger(async (ledger) => {
    const tmp = await Deno.makeTempDir({ prefix: "troupe-tests-" });
    try {
      const repo = join(tmp, "repo");
      await cp(new URL("../fixtures/repos/node_app", import.meta.url).pathname, repo, {
        recursive: true,
      });
      await Deno.writeTextFile(
        join(repo, "src", "math.js"),
        "export const add = (a, b) => a + b;\n",
      );
      const test = (body: string) =>
        "```diff\n" +
        createTwoFilesPatch(
          "/dev/null",
          "b/test/math.test.js",
          "",
          'import test from "node:test";\nimport assert from "node:assert";\n' +
            'import { add } from "../src/math.js";\n' + `test("add", () => { ${body} });\n`,
        ) + "```";
      const plan = {
        tasks: [
          { id: "write_tests", kind: "write_tests", dependsOn: ["scan", "detect"] },
          { id: "review", kind: "review", dependsOn: ["scan", "assess", "write_tests"] },
        ],
      };
      await using fake = await fakeOpenAI([
        { kind: "answer", text: JSON.stringify(plan) },
        { kind: "answer", text: test("assert.ok(typeof add === 'function');") }, // asserts little
        { kind: "answer", text: test("assert.equal(add(2, 3), 5);") },
      ]);
      const session = await RunSession.start(ledger, {
        repo,
        out: join(tmp, "out"),
        goal: "add tests for add",
        llm: llm(fake.url),
      });
      const result = await session.run();
      assert.equal(result.ok, true, JSON.stringify(result.outcome.dead));
      assert.equal(result.report.testsWritten?.attempts, 2);
      assert.deepEqual(result.report.testsWritten?.mutants, [
        { file: "src/math.js", change: "+ → -", caught: true },
      ]);
      const retry = (fake.requests[2].body as { messages: { content: string }[] }).messages;
      assert.match(
        retry.at(-1)!.content,
        /still pass when the code they test is broken \(src\/math\.js: \+ → -\)/,
      );
      assert.deepEqual(result.files.map((f) => f.path), ["test/math.test.js"]);
      assert.equal(result.report.review?.verdict, "approve");
      const md = await Deno.readTextFile(join(tmp, "out", "report.md"));
      assert.match(md, /## Tests written\n\nBy planner-1 in 2 attempt\(s\)/);
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  }));

Deno.test("--replay-models RUN_ID runs again on the recorded answers: no model is asked, nothing is spent, the same plan runs", async () => {
  const fake = await fakeOpenAI([
    { kind: "answer", text: "not a plan" },
    { kind: "answer", text: JSON.stringify(PLAN), usage: { input: 500, output: 40 } },
  ]);
  const tmp = await Deno.makeTempDir({ prefix: "troupe-replay-models-" });
  try {
    const ledger = join(tmp, "ledger.duckdb");
    const run = (out: string, ...extra: string[]) =>
      cli(
        ["run", "add CI", "--repo", GO, "--out", join(tmp, out), "--ledger", ledger, "--json"]
          .concat(extra),
        { env: { OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: "sk-replay-test-0123456789" } },
      );
    const first = await run("first", "--llm", "openai", "--model", "gpt-4o-mini");
    assert.equal(first.code, 0, first.stderr);
    const firstRun = JSON.parse(first.stdout);
    assert.deepEqual(firstRun.plannedBy, { source: "model", model: "gpt-4o-mini" });
    assert.ok(firstRun.cost.costUsd > 0);
    await fake.close();
    const asked = fake.requests.length;

    const again = await run("again", "--replay-models", firstRun.runId);
    assert.equal(again.code, 0, again.stderr);
    const second = JSON.parse(again.stdout);
    assert.equal(fake.requests.length, asked, "no model was asked");
    assert.deepEqual(second.plannedBy, firstRun.plannedBy);
    assert.deepEqual(second.generated, firstRun.generated);
    assert.deepEqual(second.cost, {
      ...firstRun.cost,
      costUsd: 0,
      byModel: { "gpt-4o-mini": { ...firstRun.cost.byModel["gpt-4o-mini"], costUsd: 0 } },
    });
    const calls = await cli([
      "sql",
      `SELECT replayed_from, count(*) AS calls FROM llm_usage WHERE run_id = '${second.runId}'
       GROUP BY ALL`,
      "--ledger",
      ledger,
      "--format",
      "json",
    ]);
    assert.deepEqual(JSON.parse(calls.stdout), [{ replayed_from: firstRun.runId, calls: 2 }]);

    const nothing = await run("none");
    const offline = JSON.parse(nothing.stdout).runId;
    const refused = await run("refused", "--replay-models", offline);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /got no answers from a model, so there is nothing to replay/);
  } finally {
    await fake.close();
    await Deno.remove(tmp, { recursive: true });
  }
});
