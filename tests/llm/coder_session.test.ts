import assert from "node:assert/strict";
import { join } from "node:path";
import { RunSession, verifyRun } from "../../actors/mod.ts";
import { brokenAdder } from "../adder_repo.ts";
import { type Behaviour, fakeOpenAI } from "../fake_models.ts";
import { withLedger } from "../ledger_helpers.ts";
import type { Ledger } from "../../ledger/mod.ts";

Deno.env.set("TROUPE_SESSION_KEY", "sk-session-test-0123456789");

const PLAN = {
  tasks: [
    { id: "code", kind: "code", dependsOn: ["scan", "detect"] },
    { id: "review", kind: "review", dependsOn: ["scan", "assess", "code"] },
  ],
};

const call = (id: string, name: string, args: Record<string, unknown> = {}) => ({
  id,
  name,
  arguments: args,
});

/**
 * The scripted session: look around, run the tests and see them fail, try to read a file the
 * policy keeps from tools (refused), make a wrong fix, see the failure again, fix it: the tests
 * pass and the session ends.
 */
const SESSION: Behaviour[] = [
  { kind: "answer", text: JSON.stringify(PLAN) },
  {
    kind: "answer",
    text: "Let me look.",
    toolCalls: [call("c1", "read_file", { path: "src/add.js" }), call("c2", "run_tests")],
  },
  {
    kind: "answer",
    text: "",
    toolCalls: [
      call("c3", "read_file", { path: "config/secret.txt" }),
      call("c4", "replace", { path: "src/add.js", old: "a - b", new: "a * b" }),
      call("c5", "run_tests"),
    ],
  },
  {
    kind: "answer",
    text: "Still wrong.",
    toolCalls: [
      call("c6", "last_failure"),
      call("c7", "edit_lines", {
        path: "src/add.js",
        start_line: 1,
        end_line: 1,
        text: "export const add = (a, b) => a + b;",
      }),
      call("c8", "run_tests"),
    ],
  },
];

const POLICY = [
  "name: keep-config-from-tools",
  "rules:",
  "  - id: no-config-reads",
  "    match: { action: tool.call, resource: builtin/read_file, arguments: { path: 'config/**' } }",
  "    effect: deny",
  "",
].join("\n");

async function session(
  ledger: Ledger,
  tmp: string,
  repo: string,
  url: string,
  extra: { kind?: "openai" | "anthropic"; replayModels?: string; toolCalls?: "text" } = {},
) {
  const policy = join(tmp, "policy.yaml");
  await Deno.writeTextFile(policy, POLICY);
  const s = await RunSession.start(ledger, {
    repo,
    out: join(tmp, `out-${crypto.randomUUID().slice(0, 8)}`),
    goal: "make add add",
    policies: [policy],
    llm: {
      providers: [{
        name: "fake",
        kind: extra.kind ?? "openai",
        baseUrl: url,
        apiKeyEnv: "TROUPE_SESSION_KEY",
        models: ["coder-1"],
        maxRetries: 0,
        ...(extra.toolCalls ? { toolCalls: extra.toolCalls } : {}),
      }],
    },
    ...(extra.replayModels ? { replayModels: extra.replayModels } : {}),
  });
  return await s.run();
}

const toolCalls = async (ledger: Ledger, runId: string) =>
  (await ledger.query(
    `SELECT tool, effect, ok, result, replayed_from AS replayed
       FROM tool_calls WHERE run_id = '${runId}' ORDER BY seq`,
  )).rows as { tool: string; effect: string; ok: boolean; result: string; replayed: string }[];

for (const kind of ["openai", "anthropic"] as const) {
  Deno.test(`${kind}: the coder fixes a failing test in several rounds of tool calls; a refused call is told to the model, which goes on; every call is in the ledger`, () =>
    withLedger(async (ledger) => {
      const tmp = await Deno.makeTempDir({ prefix: "troupe-session-" });
      try {
        const repo = await brokenAdder(tmp);
        await using fake = await fakeOpenAI(structuredClone(SESSION));
        const url = kind === "openai" ? fake.url : fake.anthropicUrl;
        const result = await session(ledger, tmp, repo, url, { kind });
        assert.equal(result.ok, true, JSON.stringify(result.outcome.dead));
        assert.deepEqual(result.report.plannedBy, { source: "model", model: "coder-1" });
        assert.equal(result.report.review?.verdict, "approve");
        assert.deepEqual(result.files.map((f) => `${f.mode} ${f.path}`), ["replace src/add.js"]);
        assert.equal(result.files[0].content, "export const add = (a, b) => a + b;\n");
        // The repository itself is untouched.
        assert.match(await Deno.readTextFile(join(repo, "src", "add.js")), /a - b/);

        const calls = await toolCalls(ledger, result.runId);
        assert.deepEqual(calls.map((c) => `${c.tool}:${c.effect}:${c.ok}`), [
          "read_file:allow:true",
          "run_tests:allow:false",
          "read_file:deny:false",
          "replace:allow:true",
          "run_tests:allow:false",
          "last_failure:allow:true",
          "edit_lines:allow:true",
          "run_tests:allow:true",
        ]);
        assert.match(calls[0].result, /1: export const add = \(a, b\) => a - b;/);
        // What the model was given back: the failure, the refusal with the rule that refused.
        const bodies = fake.requests.map((r) => JSON.stringify(r.body));
        assert.match(bodies[2], /fail/);
        assert.match(bodies[3], /refused by policy[^"]*no-config-reads/);
        assert.doesNotMatch(bodies.join(""), /do not show/);
        assert.equal(fake.requests.length, 4, "planner + three coder turns");
        const decisions = await ledger.query(
          `SELECT count(*) AS n FROM events WHERE type = 'policy_decision' AND run_id = '${result.runId}'
             AND json_extract_string(payload, '$.request.action') = 'tool.call'`,
        );
        assert.equal(Number(decisions.rows[0].n), 8);
      } finally {
        await Deno.remove(tmp, { recursive: true });
      }
    }));
}

Deno.test("a tool-calling run replays with zero model calls, its test runs answered from the ledger, and leaves identical files", () =>
  withLedger(async (ledger) => {
    const tmp = await Deno.makeTempDir({ prefix: "troupe-session-replay-" });
    try {
      const repo = await brokenAdder(tmp);
      await using fake = await fakeOpenAI(structuredClone(SESSION));
      const first = await session(ledger, tmp, repo, fake.url);
      assert.equal(first.ok, true, JSON.stringify(first.outcome.dead));
      const asked = fake.requests.length;
      const again = await session(ledger, tmp, repo, fake.url, { replayModels: first.runId });
      assert.equal(again.ok, true, JSON.stringify(again.outcome.dead));
      assert.equal(fake.requests.length, asked, "no model was asked");
      assert.deepEqual(again.files, first.files);
      const calls = await toolCalls(ledger, again.runId);
      assert.deepEqual(
        calls.map((c) => `${c.tool}:${c.effect}:${c.replayed ?? "ran"}`),
        [
          "read_file:allow:ran",
          `run_tests:allow:${first.runId}`,
          "read_file:deny:ran",
          "replace:allow:ran",
          `run_tests:allow:${first.runId}`,
          `last_failure:allow:${first.runId}`,
          "edit_lines:allow:ran",
          `run_tests:allow:${first.runId}`,
        ],
      );
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  }));

Deno.test("replay --verify re-executes a tool-calling run with zero requests at the model server and no test process, and finds no divergence", () =>
  withLedger(async (ledger) => {
    const tmp = await Deno.makeTempDir({ prefix: "troupe-session-verify-" });
    try {
      const repo = await brokenAdder(tmp);
      await using fake = await fakeOpenAI(structuredClone(SESSION));
      const first = await session(ledger, tmp, repo, fake.url);
      assert.equal(first.ok, true, JSON.stringify(first.outcome.dead));
      const asked = fake.requests.length;
      const result = await verifyRun(ledger, first.runId);
      assert.equal(result.divergence, undefined, JSON.stringify(result.divergence, null, 1));
      assert.equal(fake.requests.length, asked, "no request reached the model server");
      assert.ok(result.compared > 20, `compared ${result.compared}`);
      // The model calls and tool calls were among what was compared.
      const types = await ledger.query(
        `SELECT count(*) FILTER (type = 'llm_call') AS llm, count(*) FILTER (type = 'tool_call') AS tools
           FROM events WHERE run_id = '${first.runId}'`,
      );
      assert.equal(Number(types.rows[0].llm), 4);
      assert.equal(Number(types.rows[0].tools), 8);
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  }));

Deno.test("a model without native tool calling (toolCalls: text) calls the same tools by fenced blocks in its answer", () =>
  withLedger(async (ledger) => {
    const tmp = await Deno.makeTempDir({ prefix: "troupe-session-text-" });
    try {
      const repo = await brokenAdder(tmp);
      const block = (tool: string, args: Record<string, unknown>) =>
        "```tool\n" + JSON.stringify({ tool, arguments: args }) + "\n```";
      await using fake = await fakeOpenAI([
        { kind: "answer", text: JSON.stringify(PLAN) },
        {
          kind: "answer",
          text: "I will fix it.\n" +
            block("replace", { path: "src/add.js", old: "a - b", new: "a + b" }) + "\n" +
            block("done", { summary: "add adds" }),
        },
      ]);
      const result = await session(ledger, tmp, repo, fake.url, { toolCalls: "text" });
      assert.equal(result.ok, true, JSON.stringify(result.outcome.dead));
      assert.equal(result.files[0].content, "export const add = (a, b) => a + b;\n");
      const coder = fake.requests[1].body as { tools?: unknown; messages: { content: string }[] };
      assert.equal(coder.tools, undefined, "no native tools were sent");
      assert.match(coder.messages[0].content, /fenced block of type tool/);
      const calls = await toolCalls(ledger, result.runId);
      assert.deepEqual(calls.map((c) => `${c.tool}:${c.ok}`), [
        "replace:true",
        "done:true",
        "run_tests:true",
      ]);
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  }));

Deno.test("the test writer adds tests through tools on the code with the project's tests set aside; a test that asserts nothing goes back to it", () =>
  withLedger(async (ledger) => {
    const tmp = await Deno.makeTempDir({ prefix: "troupe-session-tests-" });
    try {
      const repo = await brokenAdder(tmp);
      await Deno.writeTextFile(
        join(repo, "src", "add.js"),
        "export const add = (a, b) => a + b;\n",
      );
      const header = 'import test from "node:test";\nimport assert from "node:assert";\n' +
        'import { add } from "../src/add.js";\n';
      await using fake = await fakeOpenAI([
        {
          kind: "answer",
          text: JSON.stringify({
            tasks: [{ id: "write_tests", kind: "write_tests", dependsOn: ["scan", "detect"] }],
          }),
        },
        {
          kind: "answer",
          text: "",
          toolCalls: [
            call("t1", "list_files"),
            call("t2", "create_file", {
              path: "test/more.test.js",
              content: header + 'test("calls add", () => { add(1, 2); });\n',
            }),
            call("t3", "done", { summary: "a test" }),
          ],
        },
        {
          kind: "answer",
          text: "",
          toolCalls: [
            call("t4", "replace", {
              path: "test/more.test.js",
              old: "{ add(1, 2); }",
              new: "assert.equal(add(1, 2), 3)",
            }),
            call("t5", "done", { summary: "it asserts" }),
          ],
        },
      ]);
      const result = await session(ledger, tmp, repo, fake.url);
      assert.equal(result.ok, true, JSON.stringify(result.outcome.dead));
      assert.deepEqual(result.files.map((f) => `${f.mode} ${f.path}`), [
        "create test/more.test.js",
      ]);
      assert.match(result.files[0].content, /assert\.equal\(add\(1, 2\), 3\)/);
      assert.ok(result.report.testsWritten?.mutants.some((m) => m.caught));
      // The project's own test was set aside: the copy the tools listed has only the code.
      const listed = (await toolCalls(ledger, result.runId))[0].result;
      assert.equal(listed, "config/secret.txt\npackage.json\nsrc/add.js");
      const retry = JSON.stringify(fake.requests[2].body);
      assert.match(retry, /still pass when the code they test is broken/);
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  }));

Deno.test("the planner reads the repository with the reading tools before it plans", () =>
  withLedger(async (ledger) => {
    const tmp = await Deno.makeTempDir({ prefix: "troupe-session-plan-" });
    try {
      const repo = await brokenAdder(tmp);
      await using fake = await fakeOpenAI([
        {
          kind: "answer",
          text: "",
          toolCalls: [call("p1", "read_file", { path: "package.json" }), call("p2", "run_tests")],
        },
        {
          kind: "answer",
          text: JSON.stringify({
            tasks: [{ id: "plan_repairs", kind: "plan_repairs", dependsOn: ["assess"] }],
          }),
        },
      ]);
      const result = await session(ledger, tmp, repo, fake.url);
      assert.deepEqual(result.report.plannedBy, { source: "model", model: "coder-1" });
      const offered = (fake.requests[0].body as { tools: { function: { name: string } }[] }).tools
        .map((t) => t.function.name);
      assert.deepEqual(offered, ["list_files", "read_file", "search"]);
      const planner = (await ledger.query(
        `SELECT tool, ok, result FROM tool_calls WHERE agent_role = 'planner' AND run_id = '${result.runId}' ORDER BY seq`,
      )).rows as { tool: string; ok: boolean; result: string }[];
      assert.deepEqual(planner.map((c) => `${c.tool}:${c.ok}`), [
        "read_file:true",
        "run_tests:false",
      ]);
      assert.match(planner[1].result, /run_tests is not offered here/);
      assert.match(JSON.stringify(fake.requests[1].body), /\\"name\\":\\"adder\\"/);
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  }));
