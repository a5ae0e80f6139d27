import assert from "node:assert/strict";
import { LlmConfig } from "../../actors/llm/llm_config.ts";
import { routeCall, type RouteState } from "../../actors/llm/model_route.ts";
import { ChatRequest } from "../../actors/llm/model_call.ts";

// The gateway's routing, called as the pure function it is: no actors, no providers, no time.
const config = LlmConfig.parse({
  providers: [
    { name: "cloud", kind: "openai", baseUrl: "http://127.0.0.1:1/v1", models: ["big", "small"] },
    { name: "claude", kind: "anthropic", baseUrl: "http://127.0.0.1:2", models: ["sonnet"] },
    {
      name: "box",
      kind: "openai",
      baseUrl: "http://127.0.0.1:3/v1",
      models: ["qwen"],
      local: true,
    },
  ],
  budgetUsd: 1,
  routes: [{ role: "coder", models: ["sonnet"] }, { role: "tester", maxLatencyMs: 500 }],
});
const request = (over: Record<string, unknown> = {}) =>
  ChatRequest.parse({
    type: "chat",
    role: "planner",
    messages: [{ role: "user", content: "plan" }],
    runId: "r1",
    taskId: "plan",
    ...over,
  });
const state = (over: Partial<RouteState> = {}): RouteState => ({
  cooling: new Map(),
  spent: new Map(),
  affinity: new Map(),
  latency: new Map(),
  now: 1_000,
  ...over,
});
const names = (route: ReturnType<typeof routeCall>) => {
  assert.ok(route.ok, JSON.stringify(route));
  return route.tries.map((t) => `${config.providers[t.provider].name}:${t.model}`);
};

Deno.test("routing: configured order, the caller's ranking, and the role's route first", () => {
  assert.deepEqual(names(routeCall(config, config.providers, request(), state())), [
    "cloud:big",
    "claude:sonnet",
    "box:qwen",
  ]);
  assert.deepEqual(
    names(routeCall(config, config.providers, request({ prefer: ["qwen", "small"] }), state())),
    ["box:qwen", "cloud:small", "claude:sonnet"],
  );
  assert.equal(
    names(routeCall(config, config.providers, request({ role: "coder" }), state()))[0],
    "claude:sonnet",
  );
});

Deno.test("routing: a spent budget and private code leave only local providers, or a reason", () => {
  const spent = new Map([["r1", 1.5]]);
  assert.deepEqual(names(routeCall(config, config.providers, request(), state({ spent }))), [
    "box:qwen",
  ]);
  assert.deepEqual(
    names(routeCall(config, config.providers, request({ localOnly: true }), state())),
    ["box:qwen"],
  );
  const remote = config.providers.slice(0, 2);
  const refused = routeCall(config, remote, request(), state({ spent }));
  assert.ok(
    !refused.ok && refused.code === "llm_budget" && /budget would be overspent/.test(refused.error),
  );
  const privateCode = routeCall(config, remote, request({ localOnly: true }), state());
  assert.ok(!privateCode.ok && privateCode.code === "llm_no_provider");
});

Deno.test("routing: a call is judged at its most before it is made, so the first cannot overshoot; a day's budget spans runs", () => {
  const priced = LlmConfig.parse({
    providers: [{
      name: "cloud",
      kind: "openai",
      baseUrl: "http://127.0.0.1:1/v1",
      models: ["big"],
    }],
    prices: { big: { input: 0, output: 100 } },
    budgetUsd: 0.5,
    dailyBudgetUsd: 2,
  });
  // 4096 answer tokens at $100 a million: up to $0.41, within $0.50 with nothing spent.
  assert.ok(routeCall(priced, priced.providers, request(), state()).ok);
  const big = routeCall(priced, priced.providers, request({ maxTokens: 8000 }), state());
  assert.ok(
    !big.ok &&
      /the run's budget would be overspent \(\$0\.0000 spent of \$0\.5, and this call may cost up to \$0\.8000\)/
        .test(big.error),
    JSON.stringify(big),
  );
  const today = routeCall(
    priced,
    priced.providers,
    request(),
    state({ spent: new Map([["today", 1.8]]) }),
  );
  assert.ok(
    !today.ok && /today's budget would be overspent/.test(today.error),
    JSON.stringify(today),
  );
});

Deno.test("routing: cooling providers sit out until their time, unless all are cooling", () => {
  const cooling = new Map([["cloud", 2_000]]);
  assert.deepEqual(names(routeCall(config, config.providers, request(), state({ cooling }))), [
    "claude:sonnet",
    "box:qwen",
  ]);
  assert.equal(
    names(routeCall(config, config.providers, request(), state({ cooling, now: 2_000 })))[0],
    "cloud:big",
  );
  const all = new Map([["cloud", 9e9], ["claude", 9e9], ["box", 9e9]]);
  assert.equal(
    names(routeCall(config, config.providers, request(), state({ cooling: all }))).length,
    3,
  );
});

Deno.test("routing: a task stays with the provider that answered it; slow ones go last", () => {
  const affinity = new Map([["r1/plan", "box"]]);
  assert.equal(
    names(routeCall(config, config.providers, request(), state({ affinity })))[0],
    "box:qwen",
  );
  const latency = new Map([["cloud", 900], ["claude", 700]]);
  assert.deepEqual(
    names(routeCall(config, config.providers, request({ role: "tester" }), state({ latency }))),
    ["box:qwen", "claude:sonnet", "cloud:big"],
  );
});

Deno.test("routing: an answer that could not be used moves its provider last, even from a task's affinity; a strict order is kept against the ranking", () => {
  const affinity = new Map([["r1/plan", "cloud"]]);
  assert.deepEqual(
    names(routeCall(config, config.providers, request({ avoid: ["cloud"] }), state({ affinity }))),
    ["claude:sonnet", "box:qwen", "cloud:big"],
  );
  const strict = LlmConfig.parse({ ...config, order: "strict" });
  assert.deepEqual(
    names(routeCall(strict, strict.providers, request({ prefer: ["qwen", "small"] }), state())),
    ["cloud:big", "claude:sonnet", "box:qwen"],
  );
});

Deno.test("routing: a key's daily budget counts every provider that reads that key; others go on", () => {
  const keyed = LlmConfig.parse({
    providers: [
      { name: "a", kind: "openai", baseUrl: "http://127.0.0.1:1/v1", models: ["m1"] },
      { name: "b", kind: "openai", baseUrl: "http://127.0.0.1:2/v1", models: ["m2"] },
      { name: "c", kind: "anthropic", baseUrl: "http://127.0.0.1:3", models: ["m3"] },
    ],
    prices: {
      m1: { input: 0, output: 10 },
      m2: { input: 0, output: 10 },
      m3: { input: 0, output: 10 },
    },
    keyBudgetsUsd: { OPENAI_API_KEY: 1 },
  });
  // $0.97 spent today through a on OPENAI_API_KEY: b, on the same key, may not spend $0.04 more.
  const spent = new Map([["today/a", 0.97]]);
  const route = routeCall(keyed, keyed.providers, request(), state({ spent }));
  assert.ok(route.ok);
  assert.deepEqual(route.tries.map((t) => keyed.providers[t.provider].name), ["c"]);
  const wrong = LlmConfig.safeParse({ ...keyed, keyBudgetsUsd: { MY_KEY: 1 } });
  assert.ok(!wrong.success && /no provider reads its key from MY_KEY/.test(wrong.error.message));
});
