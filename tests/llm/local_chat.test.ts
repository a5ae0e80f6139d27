import assert from "node:assert/strict";
import { join } from "node:path";
import {
  type GatewayReply,
  gatewaySpec,
  LLM_CALLS_TOPIC,
  LLM_TOKENS_TOPIC,
  type LlmCallRecord,
} from "../../actors/llm/llm_gateway.ts";
import { LlmConfig } from "../../actors/llm/llm_config.ts";
import { cli } from "../cli_helpers.ts";
import { fakeOpenAI } from "../fake_models.ts";
import { withSystem } from "../helpers.ts";
import { buildTinyChatModel } from "../tiny_chat_model.ts";

const GO = new URL("../fixtures/repos/go_mod", import.meta.url).pathname;
const PLAN = {
  tasks: [
    { id: "plan_repairs", kind: "plan_repairs", dependsOn: ["assess"] },
    { id: "generate_ci", kind: "generate_ci", dependsOn: ["detect", "plan_repairs"] },
  ],
  rationale: "CI first",
};

/** A temporary folder holding one tiny chat model that always answers `answer`. */
async function modelFolder(answer: string) {
  const root = await Deno.makeTempDir({ prefix: "troupe-local-model-" });
  await buildTinyChatModel(join(root, "tiny-chat"), answer);
  return {
    root,
    dir: join(root, "tiny-chat"),
    [Symbol.asyncDispose]: () => Deno.remove(root, { recursive: true }),
  };
}

Deno.test("local: the gateway's worker runs a chat model from a folder, streams it, counts its tokens and bills nothing", async () => {
  await using model = await modelFolder("Add a CI workflow, then document it.");
  await withSystem(async (system) => {
    const records: LlmCallRecord[] = [];
    const streamed: string[] = [];
    system.subscribe(LLM_CALLS_TOPIC, (m) => records.push(m as LlmCallRecord));
    system.subscribe(LLM_TOKENS_TOPIC, (m) => streamed.push((m as { text: string }).text));
    const config = LlmConfig.parse({
      providers: [{ name: "here", kind: "local", modelDir: model.root, models: ["tiny-chat"] }],
    });
    const spec = gatewaySpec("llm", config);
    // No network at all; reading the model folder, and FFI for onnxruntime.
    assert.deepEqual(spec.permissions?.net, []);
    assert.deepEqual(spec.permissions?.read, [model.root]);
    const ref = await system.spawn(spec);
    const reply = await ref.ask<GatewayReply>({
      type: "chat",
      role: "planner",
      messages: [{ role: "system", content: "plan" }, { role: "user", content: "add CI" }],
      localOnly: true,
    }, { timeoutMs: 60_000 });
    assert.deepEqual(reply, {
      ok: true,
      text: "Add a CI workflow, then document it.",
      model: "tiny-chat",
      provider: "here",
      costUsd: 0,
      inputTokens: 15,
      outputTokens: 4,
    });
    assert.equal(streamed.join(""), "Add a CI workflow, then document it.");
    assert.equal(records.length, 1);
    const [r] = records;
    assert.equal(r.system, "local");
    assert.equal(r.outcome, "ok");
    // Counted by the model's own tokenizer: five template tokens and one per byte of "plan" and
    // "add CI"; the answer is three pieces of the model's vocabulary and its end token.
    assert.equal(r.inputTokens, 5 + 4 + 6);
    assert.equal(r.outputTokens, 3 + 1);
  });
});

/** `deno task run` on the Go fixture with these model flags, and the ledger's model calls. */
async function runWith(modelFlags: string[]) {
  const tmp = await Deno.makeTempDir({ prefix: "troupe-local-run-" });
  try {
    const ledger = join(tmp, "ledger.duckdb");
    const r = await cli([
      "run",
      "add CI to this repository",
      "--repo",
      GO,
      "--out",
      join(tmp, "out"),
      "--ledger",
      ledger,
      "--json",
      ...modelFlags,
    ]);
    const usage = await cli([
      "sql",
      `SELECT provider, "gen_ai.system" AS system, outcome, cost_usd FROM llm_usage`,
      "--ledger",
      ledger,
      "--format",
      "json",
    ]);
    return { ...r, calls: JSON.parse(usage.stdout || "[]") as Record<string, unknown>[] };
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

const runLocal = (modelDir: string) => runWith(["--llm", "local", "--model", modelDir]);

Deno.test("deno task run --llm local --model DIR plans with a model in a folder, offline, at no cost", async () => {
  await using model = await modelFolder(JSON.stringify(PLAN));
  const r = await runLocal(model.dir);
  assert.equal(r.code, 0, r.stderr);
  const result = JSON.parse(r.stdout);
  assert.deepEqual(result.plannedBy, { source: "model", model: "tiny-chat" });
  assert.deepEqual(r.calls, [{ provider: "local", system: "local", outcome: "ok", cost_usd: 0 }]);
});

Deno.test("a local model that answers nonsense leaves the run on the offline plan, saying why", async () => {
  await using model = await modelFolder("I would start by reading the code carefully.");
  const r = await runLocal(model.dir);
  assert.equal(r.code, 0, r.stderr);
  const result = JSON.parse(r.stdout);
  assert.equal(result.plannedBy.source, "offline");
  assert.match(result.plannedBy.fallback, /the answer is not a JSON object/);
  assert.equal(r.calls.length, 3, "asked again with what was wrong, within the bound");
});

Deno.test("a folder with no model in it is named with what it needs, and the run goes on offline", async () => {
  const empty = await Deno.makeTempDir({ prefix: "troupe-no-model-" });
  try {
    const r = await runLocal(empty);
    // The model asked for never answered: the offline run is done and reported, and exits 1.
    assert.equal(r.code, 1, r.stderr);
    const result = JSON.parse(r.stdout);
    assert.equal(result.plannedBy.source, "offline");
    assert.match(result.plannedBy.fallback, /no chat model could be loaded from .*config\.json/);
  } finally {
    await Deno.remove(empty, { recursive: true });
  }
});

Deno.test("private code is planned by the local model: the policy's denial of hosted models leaves it allowed", async () => {
  await using model = await modelFolder(JSON.stringify(PLAN));
  await using hosted = await fakeOpenAI([{ kind: "answer", text: JSON.stringify(PLAN) }]);
  const tmp = await Deno.makeTempDir({ prefix: "troupe-local-private-" });
  try {
    const policy = join(tmp, "private.yaml");
    await Deno.writeTextFile(
      policy,
      "name: private-code\nrules:\n  - id: no-models-outside\n    match: { action: llm.call }\n    effect: deny\n",
    );
    const config = join(tmp, "llm.json");
    await Deno.writeTextFile(
      config,
      JSON.stringify({
        providers: [
          { name: "hosted", kind: "openai", baseUrl: hosted.url, models: ["gpt-4o-mini"] },
          { name: "here", kind: "local", modelDir: model.root, models: ["tiny-chat"] },
        ],
      }),
    );
    const r = await runWith(["--llm-config", config, "--policy", policy]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout).plannedBy, {
      source: "model",
      model: "tiny-chat",
      localOnly: "denied by private-code/no-models-outside",
    });
    assert.equal(hosted.requests.length, 0, "the hosted provider saw nothing");
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
