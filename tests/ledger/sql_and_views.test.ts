import assert from "node:assert/strict";
import { DuckDBInstance } from "@duckdb/node-api";
import { Ledger, LedgerError, VIEWS } from "../../ledger/mod.ts";
import { cli } from "../cli_helpers.ts";
import { ENGINES, withLedger } from "../ledger_helpers.ts";

const REFUSED: [string, RegExp][] = [
  ["COPY events TO '/tmp/troupe-stolen.csv'", /file system operations are disabled/],
  ["ATTACH '/tmp/troupe-other.duckdb' AS other", /only SELECT.*ATTACH/],
  ["INSTALL httpfs", /only SELECT/],
  ["SELECT * FROM read_csv('/etc/passwd')", /file system operations are disabled/],
  ["CREATE TABLE stolen AS SELECT * FROM events", /only SELECT.*CREATE/],
  ["INSERT INTO events SELECT * FROM events", /only SELECT.*INSERT/],
  ["UPDATE events SET actor = 'x'", /only SELECT.*UPDATE/],
  ["DELETE FROM events", /only SELECT.*DELETE/],
  ["SET enable_external_access = true", /only SELECT.*SET/],
  ["SELECT 1; DELETE FROM events", /exactly one SQL statement/],
  ["SELEC nonsense", /does not parse/],
];

for (const engine of ENGINES) {
  for (const [query, reason] of REFUSED) {
    Deno.test(`${engine}: ledger SQL refuses: ${query}`, () =>
      withLedger(async (ledger) => {
        await ledger.append({ actor: "a", type: "note" });
        await assert.rejects(ledger.query(query), (err: LedgerError) => {
          assert.ok(err instanceof LedgerError);
          assert.match(err.message, reason);
          return true;
        });
        // Nothing changed and the ledger keeps working.
        assert.deepEqual((await ledger.query("SELECT count(*) AS n FROM events")).rows, [{ n: 1 }]);
        await ledger.append({ actor: "a", type: "note" });
      }, engine));
  }

  Deno.test(`${engine}: ledger SQL runs every kind of reading statement`, () =>
    withLedger(async (ledger) => {
      await ledger.append({ actor: "a", type: "note", payload: { n: 1 } });
      for (
        const [query, rows] of [
          ["DESCRIBE events", 10],
          ["SHOW TABLES", 10],
          ["SUMMARIZE events", 10],
          ["FROM events", 1],
          ["TABLE events", 1],
          ["VALUES (1), (2)", 2],
          ["WITH t AS (SELECT 1 AS x) SELECT * FROM t", 1],
          ["-- a comment first\n(SELECT actor FROM events)", 1],
        ] as const
      ) {
        assert.equal((await ledger.query(query)).rows.length, rows, query);
      }
    }, engine));

  Deno.test(`${engine}: ledger SQL stops a query at its time limit and cuts rows at the row limit`, () =>
    withLedger(async (ledger) => {
      await assert.rejects(
        ledger.query("SELECT count(*) FROM range(100000000000) a", { timeoutMs: 100 }),
        (err: LedgerError) =>
          err.code === "query_timeout" && /longer than 100 ms/.test(err.message),
      );
      const limited = await ledger.query("SELECT * FROM range(50) r(i)", { maxRows: 10 });
      assert.equal(limited.rows.length, 10);
      assert.equal(limited.truncated, true);
      assert.deepEqual((await ledger.query("SELECT 41 + 1 AS answer")).rows, [{ answer: 42 }]);
    }, engine));

  Deno.test(`${engine}: views answer metrics and learning questions, and each documented example runs`, () =>
    withLedger(async (ledger) => {
      await seedLearning(ledger);
      await checkViews(ledger);
    }, engine));

  Deno.test(`${engine}: concurrent ledger queries each get their own answer`, () =>
    withLedger(async (ledger) => {
      await ledger.append({ actor: "a", type: "note" });
      const answers = await Promise.all(
        Array.from(
          { length: 5 },
          (_, i) => ledger.query(`SELECT ${i} AS i, count(*) AS n FROM events`),
        ),
      );
      assert.deepEqual(answers.map((a) => a.rows[0]), [0, 1, 2, 3, 4].map((i) => ({ i, n: 1 })));
    }, engine));
}

async function seedLearning(ledger: Ledger): Promise<void> {
  const run = "run-views";
  const e = (actor: string, type: string, payload: unknown) =>
    ledger.append({ runId: run, actor, type, payload });
  // Two runs' tests: one measured and passing, a later one failing with less covered.
  const tested = (runId: string, verdict: string, linesCovered: number) =>
    ledger.append({
      runId,
      actor: "orchestrator",
      type: "test_result",
      payload: {
        project: "node .",
        command: "npm test",
        verdict,
        durationMs: 900,
        coveragePct: (linesCovered / 160) * 100,
        linesCovered,
        linesTotal: 160,
        coverageTool: "V8 (NODE_V8_COVERAGE)",
      },
    });
  await e("ci", "spawned", { isolation: "worker", incarnation: 1 });
  await e("ci", "delivered", { messageType: "plan", priority: "normal", from: "orchestrator" });
  await e("ci", "delivered", { messageType: "plan", priority: "normal", from: "orchestrator" });
  await e("ci", "crashed", { error: { name: "Error", message: "yaml broke" } });
  await e("ci", "restarted", { supervisor: "team", restarts: 1, delayMs: 10 });
  const tasks = [["succeeded", "qwen"], ["succeeded", "qwen"], ["succeeded", "qwen"], [
    "failed",
    "llama",
  ]] as const;
  for (const [i, [outcome, model]] of tasks.entries()) {
    // What the run learned from the task: the lessons view reads these.
    await e("orchestrator", "lesson", {
      goal: "add CI",
      taskId: `t${i}`,
      kind: "ci_config",
      agent: "ci",
      model,
      plan: "model",
      outcome: outcome === "failed" ? "dead" : outcome,
      errorClass: null,
      durationMs: 100,
      tokens: 10,
      costUsd: 0,
    });
    await e("ci", `task_${outcome}`, {
      taskId: `t${i}-${model}-${outcome}`,
      kind: "ci_config",
      model,
      attempt: 1,
      durationMs: 100,
      ...(outcome === "failed" ? { cause: "invalid YAML" } : {}),
    });
  }
  await e("coder", "llm_call", {
    system: "openai",
    operation: "chat",
    model: "qwen",
    inputTokens: 120,
    outputTokens: 30,
    costUsd: 0.002,
    durationMs: 800,
  });
  await e("tools", "tool_call", {
    runId: run,
    taskId: "code",
    role: "coder",
    step: 2,
    callId: "c1",
    server: "fs",
    tool: "read_text_file",
    arguments: { path: "src/a.ts" },
    effect: "allow",
    reason: "allowed",
    ok: true,
    result: "text",
    durationMs: 3,
  });
  await e("ci", "stopped", { reason: "shutdown" });
  await tested("run-views", "passed", 130);
  await tested("run-later", "failed", 100);
}

/** What each view's documented example answers on the seeded run. */
const EXAMPLE_ANSWERS: Record<string, unknown[]> = {
  message_flow: [{ sender: "orchestrator", receiver: "ci", messages: 2 }],
  actor_uptime: [{ actor: "ci", restarts: 1, crashes: 1 }], // uptime_ms checked apart
  task_outcomes: [
    { kind: "ci_config", outcome: "failed", "avg(duration_ms)": 100 },
    { kind: "ci_config", outcome: "succeeded", "avg(duration_ms)": 100 },
  ],
  failures_by_cause: [
    { cause: "Error: yaml broke", failures: 1 },
    { cause: "invalid YAML", failures: 1 },
  ],
  llm_usage: [{ "gen_ai.request.model": "qwen", input: 120, cost: 0.002 }],
  run_tasks: ["t0-qwen-succeeded", "t1-qwen-succeeded", "t2-qwen-succeeded"].map((task_id) => ({
    task_id,
    a_outcome: "succeeded",
    b_outcome: "succeeded",
    same_output: true,
  })),
  tool_calls: [{
    task_id: "code",
    step: 2,
    server: "fs",
    tool: "read_text_file",
    effect: "allow",
    ok: true,
  }],
  lessons: [{ kind: "ci_config", agent: "ci", model: "qwen", success_rate: 1 }],
  coverage: [
    { run_id: "run-views", project: "node .", verdict: "passed", coverage_pct: 81.25 },
    { run_id: "run-later", project: "node .", verdict: "failed", coverage_pct: 62.5 },
  ],
};

async function checkViews(ledger: Ledger): Promise<void> {
  assert.deepEqual(VIEWS.map((v) => v.name).sort(), Object.keys(EXAMPLE_ANSWERS).sort());
  for (const view of VIEWS) {
    const rows = (await ledger.query(view.example)).rows.map((r) => {
      const { uptime_ms, ...rest } = r as Record<string, unknown>;
      if (view.name === "actor_uptime") assert.ok(Number(uptime_ms) >= 0, "uptime_ms");
      return view.name === "actor_uptime" ? rest : r;
    });
    const sorted = (xs: unknown[]) => xs.map((x) => JSON.stringify(x)).sort();
    assert.deepEqual(sorted(rows), sorted(EXAMPLE_ANSWERS[view.name]), view.example);
  }
  const flow = await ledger.query("SELECT sender, receiver, messages FROM message_flow");
  assert.deepEqual(flow.rows, [{ sender: "orchestrator", receiver: "ci", messages: 2 }]);
  const uptime = await ledger.query("SELECT actor, crashes, restarts FROM actor_uptime");
  assert.deepEqual(uptime.rows, [{ actor: "ci", crashes: 1, restarts: 1 }]);
  const causes = await ledger.query(
    "SELECT kind, cause, failures FROM failures_by_cause ORDER BY kind",
  );
  assert.deepEqual(causes.rows, [
    { kind: "crash", cause: "Error: yaml broke", failures: 1 },
    { kind: "task", cause: "invalid YAML", failures: 1 },
  ]);
  const llm = await ledger.query(
    `SELECT "gen_ai.request.model" AS model, "gen_ai.usage.input_tokens" AS input, cost_usd FROM llm_usage`,
  );
  assert.deepEqual(llm.rows, [{ model: "qwen", input: 120, cost_usd: 0.002 }]);
  const lessons = await ledger.query(
    "SELECT model, tasks, success_rate, verdict FROM lessons ORDER BY model",
  );
  assert.deepEqual(lessons.rows, [
    { model: "llama", tasks: 1, success_rate: 0, verdict: "failed" },
    { model: "qwen", tasks: 3, success_rate: 1, verdict: "worked" },
  ]);
}

Deno.test("deno task sql prints table, json and csv, reads stdin, and exports Parquet, with either engine", async () => {
  let path = "";
  await withLedger(async (ledger, p) => {
    path = p;
    await seedLearning(ledger);
    await ledger.close();
    for (const engine of ENGINES) {
      const json = await cli([
        "sql",
        "SELECT type, count(*) AS n FROM events GROUP BY type ORDER BY type LIMIT 2",
        "--ledger",
        path,
        "--format",
        "json",
        "--engine",
        engine,
      ]);
      assert.equal(json.code, 0, json.stderr);
      assert.deepEqual(JSON.parse(json.stdout), [{ type: "crashed", n: 1 }, {
        type: "delivered",
        n: 2,
      }]);
      const csv = await cli(["sql", "--ledger", path, "--format", "csv", "--engine", engine], {
        stdin: "SELECT actor, type FROM events WHERE seq = 1",
      });
      assert.equal(csv.stdout.trim(), "actor,type\nci,spawned");
      const short = await cli(["sql", "--ledger", path, "--json", "--engine", engine], {
        stdin: "SELECT actor, type FROM events WHERE seq = 1",
      });
      assert.deepEqual(JSON.parse(short.stdout), [{ actor: "ci", type: "spawned" }]);
      const table = await cli([
        "sql",
        "SELECT seq, actor FROM events WHERE seq <= 2",
        "--ledger",
        path,
        "--engine",
        engine,
      ]);
      assert.match(table.stdout, /^seq\s+actor\n---\s+-----\n1\s+ci\n2\s+ci$/m);
      const refused = await cli(["sql", "DROP TABLE events", "--ledger", path, "--engine", engine]);
      assert.equal(refused.code, 1);
      assert.match(
        refused.stderr,
        /only SELECT queries may run over the ledger; this is a DROP statement/,
      );
    }
    // What the native engine wrote, the wasm engine reads with the same answers.
    const wasm = await Ledger.open(path, { engine: "wasm", readOnly: true });
    try {
      await checkViews(wasm);
    } finally {
      await wasm.close();
    }
    const noParquet = await cli([
      "ledger",
      "export",
      "--parquet",
      "x",
      "--ledger",
      path,
      "--engine",
      "wasm",
    ]);
    assert.equal(noParquet.code, 1);
    assert.match(noParquet.stderr, /wasm engine cannot write Parquet.*--engine native/);
    const out = path.replace(/ledger\.duckdb$/, "export");
    const exported = await cli(["ledger", "export", "--parquet", out, "--ledger", path, "--json"]);
    assert.equal(exported.code, 0, exported.stderr);
    const { file, events } = JSON.parse(exported.stdout);
    assert.equal(events, 18);
    const db = await DuckDBInstance.create(":memory:");
    const conn = await db.connect();
    const back = (await conn.runAndReadAll(
      `SELECT count(*) AS n, max(seq) AS last FROM read_parquet('${file}')`,
    )).getRowObjectsJS();
    conn.closeSync();
    db.closeSync();
    assert.deepEqual(back, [{ n: 18n, last: 18n }]);
  });
});
