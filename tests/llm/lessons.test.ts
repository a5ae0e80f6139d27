import assert from "node:assert/strict";
import { join } from "node:path";
import { RunSession } from "../../actors/mod.ts";
import { findLessons, Lesson, modelRecords, rankModels } from "../../actors/llm/lessons.ts";
import { cosine, LocalEmbedder } from "../../actors/llm/local_embedder.ts";
import { buildTinyEmbedder } from "../tiny_embedder.ts";
import { Ledger } from "../../ledger/mod.ts";
import { cli } from "../cli_helpers.ts";
import { fakeOpenAI } from "../fake_models.ts";
import { withLedger } from "../ledger_helpers.ts";
import { seededRandom } from "../../runtime/random.ts";

const lesson = (model: string, outcome: "succeeded" | "dead", costUsd = 0.001) => ({
  goal: "add CI",
  taskId: "code",
  kind: "code",
  agent: "coder",
  model,
  plan: "model" as const,
  outcome,
  errorClass: outcome === "dead" ? "no patch passed the project's tests" : null,
  durationMs: 1000,
  tokens: 500,
  costUsd,
});

/** Plays `rounds` tasks: the first-ranked model does each; `bad` always fails. */
async function play(ledger: Ledger, seed: number, rounds: number, bad: string) {
  const random = seededRandom(seed);
  const picks: string[] = [];
  for (let i = 0; i < rounds; i++) {
    const [pick] = rankModels(["alpha", "beta"], await modelRecords(ledger, "code"), random);
    picks.push(pick);
    await ledger.record(Lesson, {
      actor: "orchestrator",
      payload: lesson(pick, pick === bad ? "dead" : "succeeded"),
    });
  }
  return picks;
}

Deno.test("the router moves away from a model whose tasks keep failing, and under a fixed seed chooses the same", async () => {
  let first: string[] = [];
  await withLedger(async (ledger) => {
    first = await play(ledger, 7, 40, "alpha");
    const late = first.slice(-15);
    assert.ok(late.filter((m) => m === "alpha").length <= 2, late.join(" "));
    // Both were tried: a model never seen is explored, not ignored.
    assert.ok(first.includes("alpha") && first.includes("beta"));
    const records = await modelRecords(ledger, "code");
    assert.equal(records.find((r) => r.model === "alpha")!.successes, 0);
  });
  await withLedger(async (ledger) => {
    assert.deepEqual(await play(ledger, 7, 40, "alpha"), first, "same seed, same choices");
  });
  await withLedger(async (ledger) => {
    // The other way round: the choice follows the record, not the name.
    const picks = await play(ledger, 11, 40, "beta");
    assert.ok(picks.slice(-15).filter((m) => m === "beta").length <= 2, picks.join(" "));
  });
});

Deno.test("success per dollar: of two models that both succeed, the far cheaper one is preferred", () =>
  withLedger(async (ledger) => {
    for (let i = 0; i < 10; i++) {
      await ledger.record(Lesson, { actor: "o", payload: lesson("cheap", "succeeded", 0.0001) });
      await ledger.record(Lesson, { actor: "o", payload: lesson("dear", "succeeded", 0.2) });
    }
    const random = seededRandom(3);
    const firsts = [];
    for (let i = 0; i < 20; i++) {
      firsts.push(rankModels(["dear", "cheap"], await modelRecords(ledger, "code"), random)[0]);
    }
    assert.ok(firsts.filter((m) => m === "cheap").length >= 18, firsts.join(" "));
  }));

Deno.test("a model-planned run leaves a lesson per task, which deno task lessons finds by goal words", async () => {
  await using fake = await fakeOpenAI([{
    kind: "answer",
    text: JSON.stringify({
      tasks: [
        { id: "plan_repairs", kind: "plan_repairs", dependsOn: ["assess"] },
        { id: "generate_ci", kind: "generate_ci", dependsOn: ["detect", "plan_repairs"] },
      ],
    }),
  }]);
  const tmp = await Deno.makeTempDir({ prefix: "troupe-lessons-" });
  try {
    const path = join(tmp, "ledger.duckdb");
    await withLedgerAt(path, async (ledger) => {
      const session = await RunSession.start(ledger, {
        repo: new URL("../fixtures/repos/go_mod", import.meta.url).pathname,
        out: join(tmp, "out"),
        goal: "add continuous integration",
        llm: {
          providers: [{ name: "fake", kind: "openai", baseUrl: fake.url, models: ["m1"] }],
          seed: 1,
        },
      });
      await session.run();
      const rows = await ledger.query(
        `SELECT json_extract_string(payload, '$.kind') AS kind,
                json_extract_string(payload, '$.outcome') AS outcome,
                json_extract_string(payload, '$.model') AS model
           FROM events WHERE type = 'lesson' ORDER BY kind`,
      );
      assert.deepEqual(rows.rows, [
        { kind: "assess", outcome: "succeeded", model: null },
        { kind: "detect", outcome: "succeeded", model: null },
        { kind: "generate_ci", outcome: "succeeded", model: null },
        { kind: "plan", outcome: "succeeded", model: "m1" },
        { kind: "plan_repairs", outcome: "succeeded", model: null },
        { kind: "scan", outcome: "succeeded", model: null },
      ]);
    });
    const found = await cli(["lessons", "continuous integration", "--ledger", path, "--json"]);
    assert.equal(found.code, 0, found.stderr);
    const lessons = JSON.parse(found.stdout);
    assert.equal(lessons.length, 6);
    assert.ok(lessons.every((l: { goal: string }) => l.goal === "add continuous integration"));
    const none = await cli(["lessons", "kubernetes", "--ledger", path]);
    assert.match(none.stdout, /no lessons like "kubernetes"/);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

async function withLedgerAt(path: string, fn: (ledger: Ledger) => Promise<void>) {
  await using ledger = await Ledger.open(path);
  await fn(ledger);
}

Deno.test("with a local embedding model (transformers.js, a tiny model the test builds), lessons are found by meaning, not only by words", () =>
  withLedger(async (ledger) => {
    const tmp = await Deno.makeTempDir({ prefix: "troupe-embed-" });
    try {
      const dir = await buildTinyEmbedder(join(tmp, "tiny-embedder"));
      const embedder = await LocalEmbedder.load(dir);
      const [ci, pipeline, docs] = await embedder.embed(["add ci", "pipeline", "readme docs"]);
      assert.ok(cosine(ci, pipeline) > 0.9);
      assert.ok(cosine(pipeline, docs) < 0.1);
      for (const goal of ["add ci", "update the readme docs"]) {
        await ledger.record(Lesson, { actor: "o", payload: { ...lesson("m", "succeeded"), goal } });
      }
      // No lesson has the word "pipeline": by words nothing is found, by meaning the CI one is.
      assert.deepEqual(await findLessons(ledger, "pipeline"), []);
      const byMeaning = await findLessons(ledger, "pipeline", 1, embedder);
      assert.deepEqual(byMeaning.map((l) => l.goal), ["add ci"]);
      await assert.rejects(
        LocalEmbedder.load(join(tmp, "nothing-here")),
        /no embedding model could be loaded from .*nothing-here/,
      );
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  }));

Deno.test("a provider's failures are learned, replays teach nothing, the lessons view names models, and the planner is told of model steps, not facts", () =>
  withLedger(async (ledger) => {
    const PLAN = JSON.stringify({
      tasks: [
        { id: "plan_repairs", kind: "plan_repairs", dependsOn: ["assess"] },
        { id: "generate_ci", kind: "generate_ci", dependsOn: ["detect", "plan_repairs"] },
      ],
    });
    await using down = await fakeOpenAI([{ kind: "status", status: 500 }]);
    await using up = await fakeOpenAI([{ kind: "answer", text: PLAN }]);
    Deno.env.set("TROUPE_LESSON_KEY", "sk-lesson-test-0123456789");
    const llm = {
      providers: [
        { name: "down", kind: "openai" as const, baseUrl: down.url, models: ["flaky-1"] },
        { name: "up", kind: "openai" as const, baseUrl: up.url, models: ["steady-1"] },
      ].map((p) => ({ ...p, apiKeyEnv: "TROUPE_LESSON_KEY", maxRetries: 0 })),
      seed: 7,
    };
    const GO = new URL("../fixtures/repos/go_mod", import.meta.url).pathname;
    const run = async (extra: Record<string, unknown> = {}) => {
      const out = await Deno.makeTempDir({ prefix: "troupe-lessons-" });
      try {
        const session = await RunSession.start(ledger, {
          repo: GO,
          out,
          goal: "add CI to this repository",
          llm,
          ...extra,
        });
        return await session.run();
      } finally {
        await Deno.remove(out, { recursive: true });
      }
    };
    const first = await run();
    const learned = [];
    for await (const e of ledger.events([Lesson], { runId: first.runId })) learned.push(e.payload);
    assert.ok(
      learned.some((l) =>
        l.kind === "plan" && l.model === "flaky-1" && l.outcome === "dead" &&
        l.errorClass === "llm_unavailable"
      ),
      JSON.stringify(learned),
    );
    assert.ok(
      learned.some((l) => l.kind === "plan" && l.model === "steady-1" && l.outcome === "succeeded"),
    );
    const view = await ledger.query(
      "SELECT model, failed FROM lessons WHERE kind = 'plan' ORDER BY model",
    );
    assert.deepEqual(view.rows, [{ model: "flaky-1", failed: 1 }, {
      model: "steady-1",
      failed: 0,
    }]);
    const records = await modelRecords(ledger, "plan");
    assert.deepEqual(records.find((r) => r.model === "flaky-1")?.failures, 1);

    const replayed = await run({ replayModels: first.runId });
    let replayLessons = 0;
    for await (const _ of ledger.events([Lesson], { runId: replayed.runId })) replayLessons++;
    assert.equal(replayLessons, 0, "a replay is no new evidence");

    await run();
    const prompt = (up.requests.at(-1)!.body as { messages: { content: string }[] }).messages
      .map((m) => m.content).join("\n");
    assert.match(prompt, /plan by flaky-1 dead \(llm_unavailable\)/);
    assert.doesNotMatch(prompt, /\b(scan|detect|assess) by /);
  }));
