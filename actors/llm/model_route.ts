import {
  type Complexity,
  complexityOf,
  isLocal,
  keyEnvOf,
  type LlmConfig,
  priceOf,
  type ProviderConfig,
  routeFor,
} from "./llm_config.ts";
import type { z } from "zod";
import { type ChatRequest, estimateTokens } from "./model_call.ts";

type Request = z.output<typeof ChatRequest>;

/** What the gateway knows when it routes a call: no actors, no clock, only these figures. */
export interface RouteState {
  /** Provider name → when it may be tried again (the gateway's clock). */
  cooling: ReadonlyMap<string, number>;
  /**
   * Spend so far, by run (`run`), by run and role (`run/role`), today over all runs (`today`) and
   * today by provider (`today/NAME`), the ledger's figures included (a resumed run goes on from
   * what it spent).
   */
  spent: ReadonlyMap<string, number>;
  /** The provider that last answered each run's task (`run/task`). */
  affinity: ReadonlyMap<string, string>;
  /** Provider name → its recent answer time (a moving average), for latency rules. */
  latency: ReadonlyMap<string, number>;
  /** The time now, on the same clock as `cooling`. */
  now: number;
}

/** Where a call goes: the providers to try in order, each with its model; or why nowhere. */
export type Route =
  | { ok: true; complexity: Complexity; tries: { provider: number; model: string }[] }
  | { ok: false; code: "llm_no_provider" | "llm_budget"; error: string };

/**
 * Routes one chat request, as a pure function of the configuration, the request and what the
 * gateway has seen: budgets (a spent one leaves only local providers), privacy (`localOnly`),
 * cooldowns (a cooling provider goes last, unless all are cooling), the configuration's routing
 * rules by role and complexity, the caller's ranking of models, latency limits, and session
 * affinity (a task's next call goes where its last one was answered, so the provider's prompt
 * cache for that conversation stays warm). `providers` are indexed as in the configuration.
 */
export function routeCall(
  config: LlmConfig,
  providers: readonly ProviderConfig[],
  request: Pick<
    Request,
    | "role"
    | "localOnly"
    | "prefer"
    | "avoid"
    | "complexity"
    | "messages"
    | "runId"
    | "taskId"
    | "maxTokens"
  >,
  state: RouteState,
): Route {
  const { cooling, spent, affinity, latency, now } = state;
  const run = request.runId ?? "-";
  const roleKey = `${run}/${request.role}`;
  const roleBudget = config.roleBudgetsUsd[request.role];
  // A call is judged before it is made, at its most: the prompt's tokens (estimated) and all the
  // tokens it may answer with, at the dearest of the provider's models. The first call of a run
  // cannot overshoot a budget either.
  const promptTokens = estimateTokens(request.messages.map((m) => m.content).join("\n"));
  const worst = (p: ProviderConfig) =>
    Math.max(
      0,
      ...p.models.map((m) => {
        const price = priceOf(config, m);
        return price ? (promptTokens * price.input + request.maxTokens * price.output) / 1e6 : 0;
      }),
    );
  const budgets: [string, number | undefined, number][] = [
    ["the run's budget", config.budgetUsd, spent.get(run) ?? 0],
    [`the ${request.role} budget`, roleBudget, spent.get(roleKey) ?? 0],
    ["today's budget", config.dailyBudgetUsd, spent.get("today") ?? 0],
  ];
  // A key's budget counts what every provider reading that key spent today.
  const keyBudget = (p: ProviderConfig): [string, number | undefined, number] => {
    const key = keyEnvOf(p);
    const used = providers.filter((q) => keyEnvOf(q) === key)
      .reduce((sum, q) => sum + (spent.get(`today/${q.name}`) ?? 0), 0);
    return [`today's budget for ${key}`, key ? config.keyBudgetsUsd[key] : undefined, used];
  };
  const over = (p: ProviderConfig) =>
    [...budgets, keyBudget(p)].find(([, limit, used]) =>
      limit !== undefined && used + worst(p) > limit
    );
  const allowed = providers.map((p, i) => ({ p, i })).filter(({ p }) =>
    isLocal(p) || (!request.localOnly && !over(p))
  );
  if (allowed.length === 0) {
    const [name, limit, used] = providers.map(over).find(Boolean) ?? budgets[0];
    const est = Math.min(...providers.map(worst));
    const why = request.localOnly
      ? "the code is private and no local provider is configured"
      : `${name} would be overspent ($${used.toFixed(4)} spent of $${limit}, and this call may ` +
        `cost up to $${est.toFixed(4)}) and no local provider is configured`;
    return {
      ok: false,
      code: request.localOnly ? "llm_no_provider" : "llm_budget",
      error: `no model may be asked: ${why}`,
    };
  }
  const ready = allowed.filter(({ p }) => (cooling.get(p.name) ?? 0) <= now);
  const order = ready.length > 0 ? ready : allowed; // all cooling: try them anyway
  const complexity = request.complexity ??
    complexityOf(request.messages.reduce((n, m) => n + m.content.length, 0));
  const route = routeFor(config, request.role, complexity);
  // A model's place: inside the route's models before outside them, then the caller's ranking,
  // then the route's own order.
  const rank = (m: string): [number, number, number] => {
    const inRoute = route?.models.indexOf(m) ?? -1;
    // A strict order is the configuration's alone: the learned ranking does not reorder it.
    const preferred = config.order === "strict" ? -1 : request.prefer.indexOf(m);
    return [
      route && route.models.length > 0 && inRoute < 0 ? 1 : 0,
      preferred < 0 ? Infinity : preferred,
      inRoute < 0 ? Infinity : inRoute,
    ];
  };
  const compare = (a: string, b: string) => {
    const [x, y] = [rank(a), rank(b)];
    return x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
  };
  // Too slow for the route (by its recent answers; unknown is given its chance) goes after the
  // rest, the slow ones fastest first.
  const slow = (name: string) =>
    route?.maxLatencyMs !== undefined && (latency.get(name) ?? 0) > route.maxLatencyMs
      ? latency.get(name)!
      : 0;
  // Each provider with the model it serves that ranks first, best first.
  const tries = order.map(({ p, i }) => ({ p, provider: i, model: [...p.models].sort(compare)[0] }))
    .sort((a, b) => slow(a.p.name) - slow(b.p.name) || compare(a.model, b.model));
  const sticky = request.taskId ? affinity.get(`${run}/${request.taskId}`) : undefined;
  const at = tries.findIndex((x) => x.p.name === sticky);
  if (at > 0 && !request.avoid.includes(sticky!)) tries.unshift(...tries.splice(at, 1));
  // Providers whose answer could not be used go last, in their order.
  const avoided = tries.filter((x) => request.avoid.includes(x.p.name));
  tries.splice(0, tries.length, ...tries.filter((x) => !avoided.includes(x)), ...avoided);
  return {
    ok: true,
    complexity,
    tries: tries.map(({ provider, model }) => ({ provider, model })),
  };
}
