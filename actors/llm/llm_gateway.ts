import { resolve } from "node:path";
import { z } from "zod";
import { defineActor } from "../../runtime/define_actor.ts";
import { type ActorSpecInput, type Clock, realClock, sleep } from "../../runtime/mod.ts";
import {
  baseUrlOf,
  Complexity,
  keyEnvOf,
  LlmConfig,
  priceOf,
  type ProviderConfig,
  toolCallsOf,
} from "./llm_config.ts";
import { textToolAnswer, textToolRequest } from "./text_tool_protocol.ts";
import { routeCall } from "./model_route.ts";
import { ChatRequest, LlmError, type ModelProvider, ToolCall } from "./model_call.ts";
import { OpenAIProvider } from "./openai_provider.ts";
import { AnthropicProvider } from "./anthropic_provider.ts";
import { LocalChatProvider } from "./local_chat_provider.ts";
import { type RecordedAnswer, ReplayProvider } from "./replay_provider.ts";

/** Where the gateway publishes one record per model call; the run session writes them down. */
export const LLM_CALLS_TOPIC = "llm.calls";
/** Where answers' tokens are published as they stream. */
export const LLM_TOKENS_TOPIC = "llm.tokens";

/** One model call as the ledger keeps it (OpenTelemetry GenAI names are given by the view). */
export const LlmCallRecord = z.object({
  runId: z.string().nullable(),
  taskId: z.string().nullable(),
  role: z.string(),
  system: z.string(),
  provider: z.string(),
  operation: z.literal("chat"),
  model: z.string(),
  /** The complexity the route was chosen by (absent in records older than routing rules). */
  complexity: Complexity.optional(),
  responseModel: z.string().nullable(),
  inputTokens: z.number().int().min(0),
  outputTokens: z.number().int().min(0),
  costUsd: z.number().min(0),
  /** False when no price is known for the model: the cost is then 0. */
  priced: z.boolean(),
  /** The provider sent no usage: the tokens (and so the cost) are estimated. */
  tokensEstimated: z.boolean().optional(),
  durationMs: z.number().min(0),
  outcome: z.string(),
  error: z.string().nullable(),
  attempt: z.number().int().min(1),
  /** Answered from this earlier run's recording, not by a model (and so costing nothing). */
  replayedFrom: z.string().optional(),
  request: z.array(z.object({
    role: z.string(),
    content: z.string(),
    toolCalls: z.array(ToolCall).optional(),
    toolCallId: z.string().optional(),
  })),
  response: z.string().nullable(),
  /** The tools the model called in its answer. */
  toolCalls: z.array(ToolCall).optional(),
});
/** A model call's record. */
export type LlmCallRecord = z.infer<typeof LlmCallRecord>;

/** The gateway's answer to a chat request. */
export type GatewayReply =
  | {
    ok: true;
    text: string;
    model: string;
    provider: string;
    costUsd: number;
    inputTokens: number;
    outputTokens: number;
    /** The tools the model called, when it was offered some. */
    toolCalls?: ToolCall[];
  }
  | { ok: false; code: string; error: string };

interface GatewayState {
  config: LlmConfig;
  providers: { config: ProviderConfig; provider: ModelProvider }[];
  /** Provider name → when it may be tried again. */
  cooling: Map<string, number>;
  /** Spend so far, by run (`run`) and by run and role (`run/role`). */
  spent: Map<string, number>;
  /** The provider that last answered each run's task (`run/task`). */
  affinity: Map<string, string>;
  /** Provider name → its recent answer time (a moving average), for latency rules. */
  latency: Map<string, number>;
  keys: string[];
  /** The run whose recorded answers are given instead of asking models. */
  replayedFrom?: string;
  /** A fork's parent's answers before the fork point: given first, then models are asked. */
  prefix?: ReplayProvider;
  /** Cooldowns and retry waits: the runtime's clock (the gateway's own thread's). */
  clock: Clock;
}

/** What the gateway is started with. */
export interface GatewayArgs {
  config: LlmConfig;
  /** Answer from an earlier run's recorded answers; no model is asked. */
  replay?: { from: string; answers: RecordedAnswer[] };
  /** What the ledger says was spent already (`spentSoFar`): budgets go on from it. */
  spent?: Record<string, number>;
  /** A fork: its parent's answers before the fork point, given before any model is asked. */
  prefix?: { from: string; answers: RecordedAnswer[] };
}

function makeProvider(p: ProviderConfig, key: string): ModelProvider {
  const env = (name: string) => Deno.env.get(name);
  if (p.kind === "openai") return new OpenAIProvider(p.name, baseUrlOf(p, env), key, p.timeoutMs);
  if (p.kind === "anthropic") {
    return new AnthropicProvider(p.name, baseUrlOf(p, env), key, p.timeoutMs);
  }
  return new LocalChatProvider(p.name, p.modelDir!);
}

/**
 * The one actor that talks to models. It alone reads the providers' keys (its worker may read
 * those environment variables and reach those hosts, nothing else); agents ask it. Each call is
 * retried on its provider for rate limits (honouring `retry-after`), 5xx and timeouts, then falls
 * back to the next provider; a provider that keeps failing sits out `cooldownMs`. Every attempt
 * is published as a record, keys redacted, for the ledger.
 */
export default defineActor<z.input<typeof ChatRequest>, GatewayState>({
  messages: ChatRequest,
  init(args) {
    const { replay, spent, prefix, ...rest } = args as GatewayArgs;
    const config = LlmConfig.parse(rest.config);
    const keys: string[] = [];
    // A replay keeps the providers' names and order, so routing goes as configured, and answers
    // every one of them from the recording.
    const recording = replay && new ReplayProvider(replay.from, replay.answers);
    const providers = config.providers.map((p) => {
      if (recording) return { config: p, provider: recording };
      const key = keyEnvOf(p) ? Deno.env.get(keyEnvOf(p)) ?? "" : "";
      if (key) keys.push(key);
      return { config: p, provider: makeProvider(p, key) };
    });
    return {
      config,
      providers,
      cooling: new Map(),
      spent: new Map(Object.entries(spent ?? {})),
      affinity: new Map(),
      latency: new Map(),
      keys,
      ...(replay ? { replayedFrom: replay.from } : {}),
      ...(prefix ? { prefix: new ReplayProvider(prefix.from, prefix.answers) } : {}),
      clock: realClock,
    };
  },
  async receive(input, ctx): Promise<GatewayReply> {
    const request = ChatRequest.parse(input);
    const { config, providers, cooling, spent, affinity, latency, keys, clock, prefix } = ctx.state;
    // A fork's call that its parent made before the fork point is answered as the parent got it.
    const reused = prefix?.has(request.taskId, request.role) ? prefix : undefined;
    const replayedFrom = reused?.from ?? ctx.state.replayedFrom;
    const redact = (text: string) =>
      keys.reduce((t, k) => k.length >= 8 ? t.replaceAll(k, "[redacted]") : t, text);
    const run = request.runId ?? "-";
    const roleKey = `${run}/${request.role}`;
    const taskKey = request.taskId ? `${run}/${request.taskId}` : undefined;
    const route = routeCall(config, providers.map((p) => p.config), request, {
      cooling,
      spent,
      affinity,
      latency,
      now: clock.now(),
    });
    if (!route.ok && !reused) return route;
    const complexity = route.ok ? route.complexity : "low";
    const pairs = reused
      ? [{ ...providers[0], provider: reused as ModelProvider, model: "recorded" }]
      : route.ok
      ? route.tries.map((t) => ({ ...providers[t.provider], model: t.model }))
      : [];
    let last: LlmError | undefined;
    for (const { config: p, provider, model } of pairs) {
      for (let attempt = 1; attempt <= p.maxRetries + 1; attempt++) {
        const started = performance.now();
        const base = {
          runId: request.runId,
          taskId: request.taskId,
          role: request.role,
          system: p.kind,
          provider: p.name,
          operation: "chat" as const,
          model,
          complexity,
          attempt,
          request: request.messages.map((m) => ({ ...m, content: redact(m.content) })),
          ...(replayedFrom ? { replayedFrom } : {}),
        };
        try {
          const text = request.tools.length > 0 && toolCallsOf(p) === "text" && !replayedFrom;
          const raw = await provider.chat(
            model,
            text ? textToolRequest(request) : request,
            AbortSignal.timeout(p.timeoutMs),
            (text) =>
              ctx.publish(LLM_TOKENS_TOPIC, { runId: request.runId, taskId: request.taskId, text }),
          );
          const answer = text ? textToolAnswer(raw, request.tools) : raw;
          // Billed at the model that answered.
          const price = replayedFrom
            ? undefined
            : priceOf(config, answer.model) ?? priceOf(config, model);
          const costUsd = price
            ? (answer.inputTokens * price.input + answer.outputTokens * price.output) / 1e6
            : 0;
          ctx.publish(
            LLM_CALLS_TOPIC,
            {
              ...base,
              responseModel: answer.model,
              inputTokens: answer.inputTokens,
              outputTokens: answer.outputTokens,
              costUsd,
              priced: !!price || !!replayedFrom,
              ...(answer.tokensEstimated ? { tokensEstimated: true } : {}),
              durationMs: Math.round(performance.now() - started),
              outcome: "ok",
              error: null,
              response: redact(answer.text),
              ...(answer.toolCalls ? { toolCalls: answer.toolCalls } : {}),
            } satisfies LlmCallRecord,
          );
          cooling.delete(p.name);
          const took = performance.now() - started;
          latency.set(p.name, 0.7 * (latency.get(p.name) ?? took) + 0.3 * took);
          spent.set(run, (spent.get(run) ?? 0) + costUsd);
          if (taskKey) affinity.set(taskKey, p.name);
          spent.set(roleKey, (spent.get(roleKey) ?? 0) + costUsd);
          spent.set("today", (spent.get("today") ?? 0) + costUsd);
          spent.set(`today/${p.name}`, (spent.get(`today/${p.name}`) ?? 0) + costUsd);
          return {
            ok: true,
            text: answer.text,
            model: answer.model,
            provider: p.name,
            costUsd,
            inputTokens: answer.inputTokens,
            outputTokens: answer.outputTokens,
            ...(answer.toolCalls ? { toolCalls: answer.toolCalls } : {}),
          };
        } catch (err) {
          const e = err instanceof LlmError
            ? err
            : new LlmError("llm_malformed", (err as Error).message);
          last = e;
          ctx.publish(
            LLM_CALLS_TOPIC,
            {
              ...base,
              responseModel: null,
              inputTokens: 0,
              outputTokens: 0,
              costUsd: 0,
              priced: false,
              durationMs: Math.round(performance.now() - started),
              outcome: e.code,
              error: redact(e.message),
              response: null,
            } satisfies LlmCallRecord,
          );
          if (!e.transient || attempt > p.maxRetries) break;
          const wait = e.code === "llm_rate_limited" && e.retryAfterMs !== undefined
            ? e.retryAfterMs
            : 200 * 2 ** (attempt - 1);
          await sleep(clock, Math.min(wait, 30_000));
        }
      }
      if (last?.transient) cooling.set(p.name, clock.now() + config.cooldownMs);
    }
    return {
      ok: false,
      code: last?.code ?? "llm_no_provider",
      error: redact(last?.message ?? "no provider is configured"),
    };
  },
});

/**
 * Variables the official clients read when one is made (their own configuration: base URL,
 * logging, organisation, profiles); the gateway may read these and nothing else.
 */
const CLIENT_ENV: Record<string, string[]> = {
  openai: [
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "OPENAI_LOG",
    "OPENAI_ORG_ID",
    "OPENAI_PROJECT_ID",
    "OPENAI_ADMIN_KEY",
    "OPENAI_API_VERSION",
    "OPENAI_CUSTOM_HEADERS",
    "OPENAI_WEBHOOK_SECRET",
    "AZURE_OPENAI_API_KEY",
    "AWS_BEARER_TOKEN_BEDROCK",
    "AWS_BEDROCK_BASE_URL",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "DEBUG",
  ],
  anthropic: [
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_AUTH_TOKEN",
    "ANTHROPIC_BASE_URL",
    "ANTHROPIC_CONFIG_DIR",
    "ANTHROPIC_CUSTOM_HEADERS",
    "ANTHROPIC_FEDERATION_RULE_ID",
    "ANTHROPIC_IDENTITY_TOKEN",
    "ANTHROPIC_IDENTITY_TOKEN_FILE",
    "ANTHROPIC_LOG",
    "ANTHROPIC_OPEN_TELEMETRY",
    "ANTHROPIC_OPEN_TELEMETRY_PROPAGATION",
    "ANTHROPIC_OPEN_TELEMETRY_TRACES_CONTENT_MODE",
    "ANTHROPIC_OPEN_TELEMETRY_TRACES_MAX_CONTENT_BYTES",
    "ANTHROPIC_ORGANIZATION_ID",
    "ANTHROPIC_PROFILE",
    "ANTHROPIC_SCOPE",
    "ANTHROPIC_SERVICE_ACCOUNT_ID",
    "ANTHROPIC_WEBHOOK_SIGNING_KEY",
    "ANTHROPIC_WORKSPACE_ID",
    "APPDATA",
    "HOME",
    "USERPROFILE",
    "XDG_CONFIG_HOME",
    "DEBUG",
  ],
  // transformers.js and the native modules it loads (sharp, onnxruntime-node) probe these.
  local: [
    "npm_package_config_libvips",
    "SHARP_FORCE_GLOBAL_LIBVIPS",
    "SHARP_IGNORE_GLOBAL_LIBVIPS",
    "PKG_CONFIG_PATH",
    "MALLOC_ARENA_MAX",
    "ORT_DISABLE_TELEMETRY",
    "TESTING_REMOTELY",
    "HF_TOKEN",
    "HF_ACCESS_TOKEN",
  ],
};

/**
 * The gateway's actor spec: a worker that may read only its providers' key and configuration
 * variables and reach only their hosts.
 */
export function gatewaySpec(
  id: string,
  config: LlmConfig,
  replay?: GatewayArgs["replay"],
  spent?: GatewayArgs["spent"],
  prefix?: GatewayArgs["prefix"],
): ActorSpecInput {
  const env = (name: string) => Deno.env.get(name);
  const hosts = new Set<string>();
  const vars = new Set<string>();
  const read = new Set<string>();
  for (const p of replay ? [] : config.providers) {
    for (const name of CLIENT_ENV[p.kind]) vars.add(name);
    if (p.kind === "local") {
      read.add(resolve(p.modelDir!));
      continue;
    }
    const url = new URL(baseUrlOf(p, env));
    hosts.add(url.host || url.hostname);
    if (keyEnvOf(p)) vars.add(keyEnvOf(p));
  }
  return {
    id,
    behaviour: new URL(import.meta.url).href,
    args: {
      config,
      ...(replay ? { replay } : {}),
      ...(spent ? { spent } : {}),
      ...(prefix ? { prefix } : {}),
    } satisfies GatewayArgs,
    capabilities: ["llm.chat"],
    // The openai client probes a few variables and the platform when it loads.
    permissions: {
      net: [...hosts],
      env: [...vars],
      sys: ["osRelease"],
      // A local model: its folder, onnxruntime's native library, and the CPU count for threads.
      ...(read.size > 0
        ? {
          read: [...read],
          ffi: true,
          sys: ["osRelease", "cpus", "networkInterfaces", "hostname"],
        }
        : {}),
    },
  };
}
