import assert from "node:assert/strict";
import { gatewaySpec, LLM_CALLS_TOPIC, type LlmCallRecord } from "../../actors/llm/llm_gateway.ts";
import { LlmConfig } from "../../actors/llm/llm_config.ts";
import type { GatewayReply } from "../../actors/llm/llm_gateway.ts";
import type { ActorSystem } from "../../runtime/mod.ts";
import { fakeOpenAI } from "../fake_models.ts";
import { withSystem } from "../helpers.ts";

const KEY = "sk-troupe-test-0123456789abcdef";
Deno.env.set("TROUPE_TEST_LLM_KEY", KEY);

type Kind = "openai" | "anthropic";
/** The same suite for each provider kind, against the fake speaking that kind's protocol. */
const KINDS: Kind[] = ["openai", "anthropic"];

const provider = (
  kind: Kind,
  name: string,
  fake: { url: string; anthropicUrl: string },
  extra: Record<string, unknown> = {},
) => ({
  name,
  kind,
  baseUrl: kind === "openai" ? fake.url : fake.anthropicUrl,
  apiKeyEnv: "TROUPE_TEST_LLM_KEY",
  models: ["gpt-4o-mini"],
  ...extra,
});

/** Who answered, or why no one did. */
const providerOf = (r: GatewayReply) => r.ok ? r.provider : r.error;

/** Starts the gateway on `config` and collects the call records it publishes. */
async function gateway(system: ActorSystem, config: unknown) {
  const records: LlmCallRecord[] = [];
  system.subscribe(LLM_CALLS_TOPIC, (m) => records.push(m as LlmCallRecord));
  const ref = await system.spawn(gatewaySpec("llm", LlmConfig.parse(config)));
  const chat = (content: string) =>
    ref.ask<GatewayReply>({
      type: "chat",
      role: "planner",
      messages: [{ role: "user", content }],
      runId: "r1",
      taskId: "plan",
    }, { timeoutMs: 30_000 });
  return { records, chat };
}

for (const kind of KINDS) {
  Deno.test(`${kind}: the gateway answers, streams, counts the provider's tokens and bills them`, async () => {
    await using fake = await fakeOpenAI([{
      kind: "answer",
      text: "a plan that is long enough to arrive in several chunks",
      usage: { input: 1200, output: 300 },
    }]);
    await withSystem(async (system) => {
      const { records, chat } = await gateway(system, {
        providers: [provider(kind, "main", fake)],
      });
      const reply = await chat("plan it");
      assert.deepEqual(reply, {
        ok: true,
        text: "a plan that is long enough to arrive in several chunks",
        model: "gpt-4o-mini",
        provider: "main",
        costUsd: (1200 * 0.15 + 300 * 0.6) / 1e6,
        inputTokens: 1200,
        outputTokens: 300,
      });
      assert.equal(fake.requests.length, 1);
      assert.equal(fake.requests[0].authorization, `Bearer ${KEY}`);
      assert.equal(fake.requests[0].body.stream, true);
      assert.equal(records.length, 1);
      const [r] = records;
      assert.equal(r.outcome, "ok");
      assert.equal(r.inputTokens, 1200);
      assert.equal(r.outputTokens, 300);
      assert.equal(r.priced, true);
      assert.equal(r.taskId, "plan");
      assert.deepEqual(r.request, [{ role: "user", content: "plan it" }]);
    });
  });

  Deno.test(`${kind}: a 429 with retry-after is waited out and retried; 5xx and a stalled stream fall back to the next provider`, async () => {
    await using limited = await fakeOpenAI([
      { kind: "status", status: 429, headers: { "retry-after": "0" } },
      { kind: "answer", text: "after the wait" },
    ]);
    await using broken = await fakeOpenAI([{ kind: "status", status: 503 }]);
    await using stalled = await fakeOpenAI([{ kind: "hang" }]);
    await using spare = await fakeOpenAI([{ kind: "answer", text: "from the spare" }]);
    await withSystem(async (system) => {
      const first = await gateway(system, { providers: [provider(kind, "limited", limited)] });
      assert.deepEqual((await first.chat("x")) as { text: string }, {
        ok: true,
        text: "after the wait",
        model: "gpt-4o-mini",
        provider: "limited",
        costUsd: (42 * 0.15 + 1 * 0.6) / 1e6,
        inputTokens: 42,
        outputTokens: 1,
      });
      assert.deepEqual(first.records.map((r) => r.outcome), ["llm_rate_limited", "ok"]);
      await system.remove("llm");

      const second = await gateway(system, {
        providers: [
          provider(kind, "broken", broken, { maxRetries: 1 }),
          provider(kind, "stalled", stalled, { maxRetries: 0, timeoutMs: 300 }),
          provider(kind, "spare", spare),
        ],
      });
      const reply = await second.chat("y");
      assert.equal(reply.ok && reply.provider, "spare");
      assert.deepEqual(
        second.records.map((r) => `${r.provider}:${r.outcome}`),
        ["broken:llm_unavailable", "broken:llm_unavailable", "stalled:llm_timeout", "spare:ok"],
      );
      // The providers that failed sit out: the next call goes straight to the spare.
      const again = await second.chat("z");
      assert.equal(again.ok && again.provider, "spare");
      assert.equal(second.records.length, 5);
    });
  });

  Deno.test(`${kind}: with every provider down the gateway says so, and the key never appears in a record`, async () => {
    const down = await fakeOpenAI([{ kind: "answer", text: "never" }]);
    await down.close();
    await withSystem(async (system) => {
      const { records, chat } = await gateway(system, {
        providers: [provider(kind, "gone", down, { maxRetries: 0 })],
      });
      const reply = await chat(`my key is ${KEY}, please use it`);
      assert.equal(reply.ok, false);
      assert.equal(!reply.ok && reply.code, "llm_unreachable");
      assert.match(!reply.ok ? reply.error : "", /gone \(gpt-4o-mini\) could not be reached/);
      assert.equal(records.length, 1);
      const text = JSON.stringify(records);
      assert.ok(!text.includes(KEY), "the key is redacted");
      assert.match(text, /my key is \[redacted\]/);
    });
  });
}

Deno.test("session affinity: a task's next call goes to the provider that answered its last, other tasks start from the top", async () => {
  await using first = await fakeOpenAI([
    { kind: "status", status: 503 },
    { kind: "answer", text: "from the first" },
  ]);
  await using second = await fakeOpenAI([{ kind: "answer", text: "from the second" }]);
  await withSystem(async (system) => {
    await system.spawn(gatewaySpec(
      "llm",
      LlmConfig.parse({
        cooldownMs: 0,
        providers: [
          provider("openai", "first", first, { maxRetries: 0 }),
          provider("openai", "second", second),
        ],
      }),
    ));
    const ask = (taskId: string) =>
      system.ref("llm").ask<GatewayReply>({
        type: "chat",
        role: "coder",
        messages: [{ role: "user", content: "go on" }],
        runId: "r",
        taskId,
      }, { timeoutMs: 30_000 });
    assert.equal(providerOf(await ask("code")), "second"); // the first failed once
    assert.equal(providerOf(await ask("code")), "second"); // and the task stays there
    assert.equal(providerOf(await ask("review")), "first"); // a new task starts at the top
    assert.equal(first.requests.length, 2);
  });
});

Deno.test("routing rules: a role's calls go to the models its rule names by complexity, and a provider slower than the rule allows moves behind the others", async () => {
  await using small = await fakeOpenAI([{ kind: "answer", text: "small" }]);
  await using large = await fakeOpenAI([{ kind: "answer", text: "large" }]);
  await withSystem(async (system) => {
    const { records } = await gateway(system, {
      providers: [
        provider("openai", "small", small, { models: ["gpt-4o-mini"] }),
        provider("openai", "large", large, { models: ["gpt-4o"] }),
      ],
      routes: [
        { role: "coder", complexity: "high", models: ["gpt-4o"] },
        { role: "coder", models: ["gpt-4o-mini"] },
      ],
    });
    const ask = (content: string, complexity?: string) =>
      system.ref("llm").ask<GatewayReply>({
        type: "chat",
        role: "coder",
        messages: [{ role: "user", content }],
        runId: "r",
        ...(complexity ? { complexity } : {}),
      }, { timeoutMs: 30_000 });
    assert.equal(providerOf(await ask("rename a variable")), "small"); // judged low
    assert.equal(providerOf(await ask("redesign the scheduler", "high")), "large");
    assert.equal(providerOf(await ask("x".repeat(60_000))), "large"); // judged high by its size
    assert.deepEqual(records.map((r) => r.complexity), ["low", "high", "high"]);
    // The caller's ranking orders models inside the rule, not around it.
    const ranked = await system.ref("llm").ask<GatewayReply>({
      type: "chat",
      role: "coder",
      messages: [{ role: "user", content: "small fix" }],
      prefer: ["gpt-4o", "gpt-4o-mini"],
    }, { timeoutMs: 30_000 });
    assert.equal(providerOf(ranked), "small");
  });

  await using slow = await fakeOpenAI([{ kind: "answer", text: "slow", delayMs: 400 }]);
  await using quick = await fakeOpenAI([{ kind: "answer", text: "quick" }]);
  await withSystem(async (system) => {
    await gateway(system, {
      providers: [provider("openai", "slow", slow), provider("openai", "quick", quick)],
      routes: [{ maxLatencyMs: 200 }],
    });
    const ask = () =>
      system.ref("llm").ask<GatewayReply>({
        type: "chat",
        role: "planner",
        messages: [{ role: "user", content: "plan" }],
      }, { timeoutMs: 30_000 });
    assert.equal(providerOf(await ask()), "slow"); // first in order, its speed not yet known
    // It took at least 400 ms, over the rule's 200: the untried provider goes first now.
    assert.equal(providerOf(await ask()), "quick");
  });
});

Deno.test("a replaying gateway answers a task's calls in the recorded order, asks no one, and says when the run goes another way", async () => {
  await withSystem(async (system) => {
    const records: LlmCallRecord[] = [];
    system.subscribe(LLM_CALLS_TOPIC, (m) => records.push(m as LlmCallRecord));
    const config = LlmConfig.parse({
      providers: [{
        name: "main",
        kind: "openai",
        baseUrl: "http://127.0.0.1:9/v1",
        models: ["gpt-4o"],
      }],
    });
    const answer = (text: string) => ({
      taskId: "code",
      role: "coder",
      text,
      model: "gpt-4o-2026",
      inputTokens: 10,
      outputTokens: 5,
    });
    const spec = gatewaySpec("llm", config, {
      from: "run-1",
      answers: [answer("first diff"), answer("second diff")],
    });
    assert.deepEqual(spec.permissions?.net, [], "a replay reaches no host");
    const ref = await system.spawn(spec);
    const ask = () =>
      ref.ask<GatewayReply>({
        type: "chat",
        role: "coder",
        messages: [{ role: "user", content: "write it" }],
        runId: "run-2",
        taskId: "code",
      }, { timeoutMs: 30_000 });
    assert.deepEqual(await ask(), {
      ok: true,
      text: "first diff",
      model: "gpt-4o-2026",
      provider: "main",
      costUsd: 0,
      inputTokens: 10,
      outputTokens: 5,
    });
    assert.equal(providerOf(await ask()), "main");
    const third = await ask();
    assert.equal(third.ok, false);
    assert.match(
      providerOf(third),
      /run run-1 recorded no further answer for the coder in task code/,
    );
    assert.deepEqual(records.map((r) => [r.outcome, r.replayedFrom, r.costUsd]), [
      ["ok", "run-1", 0],
      ["ok", "run-1", 0],
      ["llm_no_provider", "run-1", 0],
    ]);
  });
});
