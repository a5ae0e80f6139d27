import assert from "node:assert/strict";
import { gatewaySpec, LLM_CALLS_TOPIC, type LlmCallRecord } from "../../actors/llm/llm_gateway.ts";
import type { GatewayReply } from "../../actors/llm/llm_gateway.ts";
import { LlmConfig } from "../../actors/llm/llm_config.ts";
import { LlmCall, spentSoFar } from "../../actors/llm/llm_events.ts";
import { RunSession } from "../../actors/mod.ts";
import { TroupeError } from "../../runtime/errors.ts";
import { fakeOpenAI } from "../fake_models.ts";
import { withSystem } from "../helpers.ts";
import { withLedger } from "../ledger_helpers.ts";

const GO = new URL("../fixtures/repos/go_mod", import.meta.url).pathname;
const KEY = "sk-provider-trust-0123456789abcdef";
Deno.env.set("TROUPE_TRUST_KEY", KEY);

type Kind = "openai" | "anthropic";

/** Starts the gateway on `config`; `chat` asks it once, and `records` holds what it published. */
async function withGateway(
  config: unknown,
  fn: (chat: () => Promise<GatewayReply>, records: LlmCallRecord[]) => Promise<void>,
) {
  await withSystem(async (system) => {
    const records: LlmCallRecord[] = [];
    system.subscribe(LLM_CALLS_TOPIC, (m) => records.push(m as LlmCallRecord));
    const ref = await system.spawn(gatewaySpec("llm", LlmConfig.parse(config)));
    const chat = () =>
      ref.ask<GatewayReply>({
        type: "chat",
        role: "planner",
        messages: [{ role: "user", content: "plan it, please" }],
        runId: "r1",
        taskId: "plan",
      }, { timeoutMs: 60_000 });
    await fn(chat, records);
  });
}

const at = (kind: Kind, fake: { url: string; anthropicUrl: string }) =>
  kind === "openai" ? fake.url : fake.anthropicUrl;

for (const kind of ["openai", "anthropic"] as Kind[]) {
  Deno.test(`${kind}: a stall mid-answer is a timeout: retried, then the next provider answers, and the staller cools down`, async () => {
    await using stalling = await fakeOpenAI([{
      kind: "answer",
      text: "a plan that starts",
      stall: true,
    }]);
    await using next = await fakeOpenAI([{ kind: "answer", text: "the whole plan" }]);
    const common = { kind, apiKeyEnv: "TROUPE_TRUST_KEY", models: ["gpt-4o-mini"] };
    await withGateway({
      providers: [
        { ...common, name: "stalls", baseUrl: at(kind, stalling), timeoutMs: 1_000, maxRetries: 1 },
        { ...common, name: "next", baseUrl: at(kind, next) },
      ],
      cooldownMs: 600_000,
    }, async (chat, records) => {
      const reply = await chat();
      assert.ok(reply.ok && reply.provider === "next", JSON.stringify(reply));
      assert.deepEqual(records.map((r) => [r.provider, r.attempt, r.outcome]), [
        ["stalls", 1, "llm_timeout"],
        ["stalls", 2, "llm_timeout"],
        ["next", 1, "ok"],
      ]);
      await chat(); // the staller sits out its cooldown
      assert.deepEqual(records.slice(3).map((r) => r.provider), ["next"]);
    });
  });

  Deno.test(`${kind}: a server that sends no usage: the answer stands, its tokens estimated and marked so`, async () => {
    await using fake = await fakeOpenAI([{ kind: "answer", text: "x".repeat(400), noUsage: true }]);
    await withGateway({
      providers: [{
        name: "quiet",
        kind,
        baseUrl: at(kind, fake),
        apiKeyEnv: "TROUPE_TRUST_KEY",
        models: ["gpt-4o-mini"],
      }],
    }, async (chat, records) => {
      const reply = await chat();
      assert.ok(reply.ok, JSON.stringify(reply));
      const [r] = records;
      assert.equal(r.outcome, "ok");
      assert.equal(r.tokensEstimated, true);
      assert.equal(r.outputTokens, 100); // 400 characters, about 4 a token
      assert.ok(r.inputTokens > 0 && r.costUsd > 0);
    });
  });
}

Deno.test("a local: true provider is sent no key unless it names one; the user's OPENAI_API_KEY goes only to the provider that uses it", async () => {
  await using fake = await fakeOpenAI([{ kind: "answer", text: "ok" }]);
  Deno.env.set("OPENAI_API_KEY", "sk-users-own-openai-key-0123456789");
  try {
    for (
      const [local, expected] of [[true, "Bearer none"], [
        false,
        "Bearer sk-users-own-openai-key-0123456789",
      ]] as const
    ) {
      await withGateway({
        providers: [{ name: "box", kind: "openai", baseUrl: fake.url, local, models: ["m"] }],
      }, async (chat) => {
        assert.ok((await chat()).ok);
      });
      assert.equal(fake.requests.at(-1)!.authorization, expected);
    }
  } finally {
    Deno.env.delete("OPENAI_API_KEY");
  }
});

Deno.test("a model configuration that names what does not exist is refused, each problem named", () => {
  const r = LlmConfig.safeParse({
    providers: [
      { name: "a", kind: "openai", models: ["m1"] },
      { name: "a", kind: "anthropic", models: ["m2"] },
    ],
    routes: [{ role: "coder", models: ["m3"] }, { role: "poet", models: ["m1"] }],
    roleBudgetsUsd: { reviewer: 1 },
  });
  assert.equal(r.success, false);
  const messages = r.error!.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
  assert.deepEqual(messages, [
    'providers.1.name: provider name "a" is used twice; give each provider its own name',
    'routes.0.models.0: route names model "m3", which no provider serves (m1, m2)',
    'roleBudgetsUsd.reviewer: no role "reviewer" asks models; the roles are planner, coder, tester',
    'routes.1.role: no role "poet" asks models; the roles are planner, coder, tester',
  ]);
});

Deno.test("OPENAI_BASE_URL that is no URL stops the run before it starts, naming the variable and the value", () =>
  withLedger(async (ledger) => {
    Deno.env.set("OPENAI_BASE_URL", "not a url");
    try {
      await assert.rejects(
        RunSession.start(ledger, {
          repo: GO,
          out: await Deno.makeTempDir(),
          llm: { providers: [{ name: "openai", kind: "openai", models: ["gpt-4o-mini"] }] },
        }),
        (err: unknown) =>
          err instanceof TroupeError && err.code === "invalid_spec" &&
          /provider openai: base URL "not a url" \(from OPENAI_BASE_URL\) is not an http\(s\) URL/
            .test(err.message),
      );
      const rows = await ledger.query(
        "SELECT count(*)::INT AS n FROM events WHERE type = 'run_started'",
      );
      assert.equal(rows.rows[0].n, 0);
    } finally {
      Deno.env.delete("OPENAI_BASE_URL");
    }
  }));

Deno.test("a model asked for that never answers: the offline plan runs, the reason names the URL, and the run is not ok", () =>
  withLedger(async (ledger) => {
    // A port with nothing listening on it.
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (listener.addr as Deno.NetAddr).port;
    listener.close();
    const out = await Deno.makeTempDir({ prefix: "troupe-unreachable-" });
    try {
      const session = await RunSession.start(ledger, {
        repo: GO,
        out,
        goal: "add CI to this repository",
        llm: {
          providers: [{
            name: "gone",
            kind: "openai",
            baseUrl: `http://127.0.0.1:${port}/v1`,
            apiKeyEnv: "TROUPE_TRUST_KEY",
            models: ["m"],
            maxRetries: 0,
          }],
        },
      });
      const result = await session.run();
      assert.equal(result.plannedBy.source, "offline");
      assert.match(
        result.plannedBy.fallback ?? "",
        new RegExp(`could not be reached at http://127\\.0\\.0\\.1:${port}/v1`),
      );
      assert.deepEqual(result.outcome.dead, []);
      assert.equal(result.ok, false);
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  }));

Deno.test("spending is kept in the ledger: a resumed run's gateway goes on from what the run spent, and a day's budget spans runs", () =>
  withLedger(async (ledger) => {
    const call = (runId: string, costUsd: number) =>
      ledger.record(LlmCall, {
        runId,
        actor: "llm",
        payload: {
          runId,
          taskId: "plan",
          role: "planner",
          system: "openai",
          provider: "fake",
          operation: "chat",
          model: "m",
          responseModel: "m",
          inputTokens: 10,
          outputTokens: 4000,
          costUsd,
          priced: true,
          durationMs: 5,
          outcome: "ok",
          error: null,
          attempt: 1,
          request: [],
          response: "{}",
        },
      });
    await call("run-a", 0.008);
    await call("run-b", 0.5);
    const spent = await spentSoFar(ledger, "run-a");
    assert.deepEqual(spent, {
      "run-a": 0.008,
      "run-a/planner": 0.008,
      today: 0.508,
      "today/fake": 0.508,
    });

    await using fake = await fakeOpenAI([{ kind: "answer", text: "ok" }]);
    const config = LlmConfig.parse({
      providers: [{
        name: "fake",
        kind: "openai",
        baseUrl: fake.url,
        apiKeyEnv: "TROUPE_TRUST_KEY",
        models: ["m"],
      }],
      prices: { m: { input: 0, output: 2 } },
      budgetUsd: 0.009,
    });
    await withSystem(async (system) => {
      const gw = await system.spawn(gatewaySpec("llm", config, undefined, spent));
      const reply = await gw.ask<GatewayReply>({
        type: "chat",
        role: "planner",
        messages: [{ role: "user", content: "plan" }],
        runId: "run-a",
        taskId: "plan",
      }, { timeoutMs: 30_000 });
      assert.ok(
        !reply.ok && /\$0\.0080 spent of \$0\.009/.test(reply.error),
        JSON.stringify(reply),
      );
      assert.equal(fake.requests.length, 0);
    });
  }));

Deno.test("a plan that fails validation moves the planner to the next provider, as a transport error would", () =>
  withLedger(async (ledger) => {
    const PLAN = JSON.stringify({
      tasks: [
        { id: "plan_repairs", kind: "plan_repairs", dependsOn: ["assess"] },
        { id: "generate_ci", kind: "generate_ci", dependsOn: ["detect", "plan_repairs"] },
      ],
    });
    await using garbage = await fakeOpenAI([{ kind: "answer", text: "no plan, just words" }]);
    await using good = await fakeOpenAI([{ kind: "answer", text: PLAN }]);
    const out = await Deno.makeTempDir({ prefix: "troupe-avoid-" });
    try {
      const session = await RunSession.start(ledger, {
        repo: GO,
        out,
        goal: "add CI to this repository",
        llm: {
          providers: [
            { name: "words", kind: "openai" as const, baseUrl: garbage.url, models: ["w"] },
            { name: "plans", kind: "openai" as const, baseUrl: good.url, models: ["p"] },
          ].map((p) => ({ ...p, apiKeyEnv: "TROUPE_TRUST_KEY", maxRetries: 0 })),
          order: "strict",
        },
      });
      const result = await session.run();
      assert.deepEqual(result.plannedBy, { source: "model", model: "p" });
      assert.equal(garbage.requests.length, 1);
      assert.equal(good.requests.length, 1);
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  }));
