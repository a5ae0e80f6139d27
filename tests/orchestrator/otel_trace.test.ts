import assert from "node:assert/strict";
import { join } from "node:path";
import { brokenAdder } from "../adder_repo.ts";
import { cli } from "../cli_helpers.ts";
import { fakeOpenAI } from "../fake_models.ts";
import { otlpReceiver, type ReceivedSpan } from "../otlp_receiver.ts";

const PLAN = { tasks: [{ id: "code", kind: "code", dependsOn: ["scan", "detect"] }] };

/** The planner's answer, then one coder turn that fixes the code and runs the tests (they pass). */
const SESSION = [
  { kind: "answer" as const, text: JSON.stringify(PLAN), usage: { input: 120, output: 30 } },
  {
    kind: "answer" as const,
    text: "Fixing it.",
    usage: { input: 400, output: 60 },
    toolCalls: [
      {
        id: "c1",
        name: "edit_lines",
        arguments: {
          path: "src/add.js",
          start_line: 1,
          end_line: 1,
          text: "export const add = (a, b) => a + b;",
        },
      },
      { id: "c2", name: "run_tests", arguments: {} },
    ],
  },
];

/** Runs the CLI on the broken adder with the fake model; returns the run's id and its ledger. */
async function tracedRun(
  tmp: string,
  modelUrl: string,
  env: Record<string, string>,
): Promise<{ runId: string; ledger: string }> {
  const repo = await brokenAdder(tmp);
  const config = join(tmp, "llm.json");
  await Deno.writeTextFile(
    config,
    JSON.stringify({
      providers: [{
        name: "fake",
        kind: "openai",
        baseUrl: modelUrl,
        apiKeyEnv: "TROUPE_TRACE_KEY",
        models: ["coder-1"],
        maxRetries: 0,
      }],
    }),
  );
  const ledger = join(tmp, "ledger.duckdb");
  const r = await cli([
    "run",
    "make add add",
    "--repo",
    repo,
    "--out",
    join(tmp, "out"),
    "--ledger",
    ledger,
    "--llm-config",
    config,
    "--json",
  ], { env: { TROUPE_TRACE_KEY: "sk-trace-test-0123456789", ...env } });
  const result = JSON.parse(r.stdout || "{}");
  assert.ok(result.runId, `no run id: ${r.stderr}`);
  return { runId: result.runId, ledger };
}

/** Rows of a query on the run's ledger, through the CLI. */
async function sql(ledger: string, query: string): Promise<Record<string, unknown>[]> {
  const r = await cli(["sql", query, "--ledger", ledger, "--format", "json"]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

Deno.test("a run is one OpenTelemetry trace across its processes: run, task, agent, model-call and tool-call spans with GenAI attributes and the ledger's seq", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "troupe-otel-" });
  await using collector = await otlpReceiver();
  await using fake = await fakeOpenAI(structuredClone(SESSION));
  try {
    const { runId, ledger } = await tracedRun(tmp, fake.url, {
      OTEL_DENO: "true",
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/protobuf",
      OTEL_SERVICE_NAME: "troupe",
    });
    const spans = collector.spans.filter((s) => s.attributes["troupe.run.id"] === runId);
    const names = spans.map((s) => s.name).sort();
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const parentOf = (s: ReceivedSpan) => byId.get(s.parentSpanId);
    const one = (pred: (s: ReceivedSpan) => boolean, what: string) => {
      const found = spans.filter(pred);
      assert.equal(found.length, 1, `${what}: ${found.length} among ${names.join(", ")}`);
      return found[0];
    };

    // The run: the root, one trace for everything.
    const run = one((s) => s.name === "invoke_workflow troupe", "the run span");
    assert.equal(run.parentSpanId, "");
    assert.equal(run.attributes["gen_ai.operation.name"], "invoke_workflow");
    assert.deepEqual(new Set(spans.map((s) => s.traceId)), new Set([run.traceId]));
    const [started] = await sql(
      ledger,
      `SELECT seq FROM events WHERE run_id = '${runId}' AND type = 'run_started'`,
    );
    assert.equal(run.attributes["troupe.ledger.seq"], Number(started.seq));

    // Each task attempt under the run, with the seq of its task_started.
    const taskRows = await sql(
      ledger,
      `SELECT seq, json_extract_string(payload, '$.taskId') AS task FROM events
         WHERE run_id = '${runId}' AND type = 'task_started' ORDER BY seq`,
    );
    const taskSpans = spans.filter((s) => s.name.startsWith("task "));
    assert.deepEqual(
      taskSpans.map((s) => `${s.attributes["troupe.task.id"]}@${s.attributes["troupe.ledger.seq"]}`)
        .sort(),
      taskRows.map((r) => `${r.task}@${Number(r.seq)}`).sort(),
    );
    for (const t of taskSpans) assert.equal(parentOf(t), run, `${t.name}'s parent`);

    // The coder's handling of its task: a span made in the coder's own process, under the task.
    const code = one((s) => s.name === "task code", "the code task");
    const coder = one(
      (s) => s.name.startsWith("invoke_agent ") && s.attributes["troupe.task.id"] === "code",
      "the coder's agent span",
    );
    assert.equal(parentOf(coder), code);
    assert.equal(coder.attributes["gen_ai.agent.name"], "coder");
    assert.equal(coder.attributes["troupe.ledger.seq"], code.attributes["troupe.ledger.seq"]);
    // Every agent that took a task is in the trace, under its task.
    const agents = spans.filter((s) => s.name.startsWith("invoke_agent "));
    assert.equal(agents.length, taskSpans.length);
    for (const a of agents) assert.ok(parentOf(a)?.name.startsWith("task "), a.name);

    // The coder's model call: under the coder, GenAI attributes, the tokens the model sent.
    const llmRows = await sql(
      ledger,
      `SELECT seq, task_id FROM llm_usage WHERE run_id = '${runId}' ORDER BY seq`,
    );
    const chats = spans.filter((s) => s.attributes["gen_ai.operation.name"] === "chat");
    assert.deepEqual(
      chats.map((s) => s.attributes["troupe.ledger.seq"]).sort(),
      llmRows.map((r) => Number(r.seq)).sort(),
    );
    const coderChat = one(
      (s) => s.name === "chat coder-1" && s.attributes["troupe.task.id"] === "code",
      "the coder's model call",
    );
    assert.equal(parentOf(coderChat), coder);
    assert.equal(coderChat.kind, 3, "SPAN_KIND_CLIENT");
    assert.equal(coderChat.attributes["gen_ai.provider.name"], "openai");
    assert.equal(coderChat.attributes["gen_ai.request.model"], "coder-1");
    assert.equal(coderChat.attributes["gen_ai.response.model"], "coder-1");
    assert.equal(coderChat.attributes["gen_ai.usage.input_tokens"], 400);
    assert.equal(coderChat.attributes["gen_ai.usage.output_tokens"], 60);

    // Its tool calls: under the coder, each with its tool_call event's seq.
    const toolRows = await sql(
      ledger,
      `SELECT seq, tool FROM tool_calls WHERE run_id = '${runId}' ORDER BY seq`,
    );
    const tools = spans.filter((s) => s.attributes["gen_ai.operation.name"] === "execute_tool");
    assert.deepEqual(
      tools.map((s) => `${s.attributes["gen_ai.tool.name"]}@${s.attributes["troupe.ledger.seq"]}`)
        .sort(),
      toolRows.map((r) => `${r.tool}@${Number(r.seq)}`).sort(),
    );
    const runTests = one((s) => s.name === "execute_tool run_tests", "the run_tests call");
    assert.equal(parentOf(runTests), coder);
    assert.equal(runTests.attributes["gen_ai.tool.call.id"], "c2");
    assert.equal(runTests.status.code, 0, "the tests passed");
    for (const s of spans) assert.ok(s.endNs >= s.startNs, `${s.name} ends after it starts`);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("nothing is exported unless OTEL_DENO turns it on, even with an OTLP endpoint set", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "troupe-otel-off-" });
  await using collector = await otlpReceiver();
  await using fake = await fakeOpenAI(structuredClone(SESSION));
  try {
    const { runId } = await tracedRun(tmp, fake.url, {
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint,
    });
    assert.match(runId, /^run-/);
    assert.equal(fake.requests.length, 2, "the run did ask the model");
    assert.deepEqual(collector.requests, {});
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
