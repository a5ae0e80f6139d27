import { basename, dirname, resolve } from "node:path";
import { z } from "zod";

/** How a provider is spoken to. */
export const ProviderKind = z.enum(["openai", "anthropic", "local"]);

/** Dollars per million tokens, in and out. */
export const Price = z.strictObject({
  input: z.number().min(0),
  output: z.number().min(0),
});
/** A model's price. */
export type Price = z.infer<typeof Price>;

/** One provider: where it is, which environment variable holds its key, which models it serves. */
export const ProviderConfig = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/),
  kind: ProviderKind,
  /** The API's base URL; default: the provider's usual environment variable, then its own. */
  baseUrl: z.url().optional(),
  /** The environment variable holding the key (read by the gateway alone). */
  apiKeyEnv: z.string().regex(/^[A-Z_][A-Z0-9_]*$/).optional(),
  models: z.array(z.string().min(1)).min(1),
  /** Runs on this machine or the user's own network: allowed for `private` code (kind local always is). */
  local: z.boolean().default(false),
  /** Kind local: the folder holding the model folders that `models` names. */
  modelDir: z.string().min(1).optional(),
  timeoutMs: z.number().int().positive().max(600_000).default(60_000),
  /** Retries on this provider (429, 5xx, timeouts) before falling back to the next. */
  maxRetries: z.number().int().min(0).max(5).default(2),
  /**
   * How its models call tools: `native` (the API's own tool calls), or `text` (fenced blocks in
   * the answer, for models served without tool calling). Default: text for kind local.
   */
  toolCalls: z.enum(["native", "text"]).optional(),
});
/** A provider as configured, defaults filled in. */
export type ProviderConfig = z.output<typeof ProviderConfig>;

/** A provider that may see private code: in this process, or marked as on the user's machines. */
export function isLocal(p: ProviderConfig): boolean {
  return p.local || p.kind === "local";
}

/** Whether a provider's models are offered tools natively or through the text protocol. */
export function toolCallsOf(p: ProviderConfig): "native" | "text" {
  return p.toolCalls ?? (p.kind === "local" ? "text" : "native");
}

const LOCAL_NEEDS_DIR = "kind local needs modelDir, the folder holding its model folders; " +
  "other kinds take a baseUrl instead";

/** How much a task asks of a model; the caller says, or the gateway judges by the prompt's size. */
export const Complexity = z.enum(["low", "medium", "high"]);
/** A task's complexity. */
export type Complexity = z.infer<typeof Complexity>;

/**
 * A routing rule: for calls of this role and complexity (either left out: any), these models in
 * this order, and providers slower than `maxLatencyMs` (their recent average) only after the
 * others. Models outside the rule stay as the last fallback.
 */
export const RouteRule = z.strictObject({
  role: z.string().min(1).optional(),
  complexity: Complexity.optional(),
  models: z.array(z.string().min(1)).default([]),
  maxLatencyMs: z.number().int().positive().optional(),
});
/** A routing rule, defaults filled in. */
export type RouteRule = z.output<typeof RouteRule>;

const McpName = z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/, "lower-case letters, digits and -");

/**
 * An MCP server whose tools agents may use: a command started over stdio inside bubblewrap (its
 * arguments may name the task's scratch copy as `${workspace}`, the only folder it may write),
 * or a streamable HTTP endpoint. Every call is a policy decision (`tool.call` on
 * `mcp/NAME/TOOL`).
 */
export const McpServerConfig = z.union([
  z.strictObject({
    name: McpName,
    command: z.string().min(1),
    args: z.array(z.string()).default([]),
    /** The server's whole environment (nothing else of troupe's is passed). */
    env: z.record(z.string(), z.string()).default({}),
    /** Folders it may read (its own installation, where outside the system folders). */
    read: z.array(z.string().min(1)).default([]),
    /** Let it reach the network (no network otherwise). */
    network: z.boolean().default(false),
    timeoutMs: z.number().int().positive().max(600_000).default(60_000),
  }),
  z.strictObject({
    name: McpName,
    url: z.url(),
    timeoutMs: z.number().int().positive().max(600_000).default(60_000),
  }),
]);
/** An MCP server's entry, defaults filled in. */
export type McpServerConfig = z.output<typeof McpServerConfig>;

/** The roles that ask models: the planner, the coder and the test writer (`tester`). */
export const MODEL_ROLES = ["planner", "coder", "tester"] as const;

/** What `--llm-config FILE` holds: providers in order of preference, and prices. */
export const LlmConfig = z.strictObject({
  providers: z.array(
    ProviderConfig.refine((p) => (p.kind === "local") === (p.modelDir !== undefined), {
      message: LOCAL_NEEDS_DIR,
      path: ["modelDir"],
    }),
  ).min(1),
  /** Prices by model name; well-known models have defaults. */
  prices: z.record(z.string(), Price).default({}),
  /** Failing providers sit out this long before they are tried again. */
  cooldownMs: z.number().int().min(0).default(30_000),
  /** Spend per run in US dollars; past it only local providers answer, or none. */
  budgetUsd: z.number().positive().optional(),
  /** Spend per day (UTC) in US dollars over every run this ledger holds, as `budgetUsd`. */
  dailyBudgetUsd: z.number().positive().optional(),
  /**
   * Spend per day (UTC) and API key, by the environment variable that holds it (as LiteLLM's key
   * budgets): providers that share a key share its budget, over every run.
   */
  keyBudgetsUsd: z.record(z.string(), z.number().positive()).default({}),
  /** A local embedding model (a transformers.js folder) for finding similar past lessons. */
  embeddings: z.strictObject({ modelDir: z.string().min(1) }).optional(),
  /** Seeds the model ranking, so that a run's choices can be repeated; random without. */
  seed: z.number().int().optional(),
  /** Spend per run and role (planner, coder, …), as `budgetUsd`. */
  roleBudgetsUsd: z.record(z.string(), z.number().positive()).default({}),
  /** Routing rules, first match wins; without one, providers in order and the ranking decide. */
  routes: z.array(RouteRule).default([]),
  /**
   * `ranked`: the learned ranking orders models (within routing rules); `strict`: providers and
   * routes exactly in the order written, as a fallback list (LiteLLM's `order`).
   */
  order: z.enum(["ranked", "strict"]).default("ranked"),
  /** MCP servers whose tools the coder and the test writer may call, under policy. */
  mcp: z.array(McpServerConfig).default([]),
}).superRefine((c, ctx) => {
  // Names that mean nothing would be ignored without a word: each is refused, named.
  const servers = c.mcp.map((m) => m.name);
  servers.forEach((n, i) => {
    if (servers.indexOf(n) !== i) {
      ctx.addIssue({
        code: "custom",
        path: ["mcp", i, "name"],
        message: `MCP server name "${n}" is used twice; give each server its own name`,
      });
    }
  });
  const names = c.providers.map((p) => p.name);
  names.forEach((n, i) => {
    if (names.indexOf(n) !== i) {
      ctx.addIssue({
        code: "custom",
        path: ["providers", i, "name"],
        message: `provider name "${n}" is used twice; give each provider its own name`,
      });
    }
  });
  const models = new Set(c.providers.flatMap((p) => p.models));
  c.routes.forEach((r, i) =>
    r.models.forEach((m, j) => {
      if (!models.has(m)) {
        ctx.addIssue({
          code: "custom",
          path: ["routes", i, "models", j],
          message: `route names model "${m}", which no provider serves (${[...models].join(", ")})`,
        });
      }
    })
  );
  const keys = new Set(c.providers.map(keyEnvOf).filter(Boolean));
  for (const key of Object.keys(c.keyBudgetsUsd)) {
    if (!keys.has(key)) {
      ctx.addIssue({
        code: "custom",
        path: ["keyBudgetsUsd", key],
        message: `no provider reads its key from ${key}; the keys are ${[...keys].join(", ")}`,
      });
    }
  }
  for (const role of Object.keys(c.roleBudgetsUsd)) {
    if (!(MODEL_ROLES as readonly string[]).includes(role)) {
      ctx.addIssue({
        code: "custom",
        path: ["roleBudgetsUsd", role],
        message: `no role "${role}" asks models; the roles are ${MODEL_ROLES.join(", ")}`,
      });
    }
  }
  c.routes.forEach((r, i) => {
    if (r.role !== undefined && !(MODEL_ROLES as readonly string[]).includes(r.role)) {
      ctx.addIssue({
        code: "custom",
        path: ["routes", i, "role"],
        message: `no role "${r.role}" asks models; the roles are ${MODEL_ROLES.join(", ")}`,
      });
    }
  });
});
/** An LLM configuration, defaults filled in. */
export type LlmConfig = z.output<typeof LlmConfig>;

/** Prices of well-known models (USD per million tokens); the configuration's win. */
export const DEFAULT_PRICES: Record<string, Price> = {
  "gpt-4o": { input: 2.5, output: 10 },
  "gpt-4o-mini": { input: 0.15, output: 0.6 },
  "gpt-4.1": { input: 2, output: 8 },
  "gpt-4.1-mini": { input: 0.4, output: 1.6 },
  "claude-sonnet-4": { input: 3, output: 15 },
  "claude-haiku-3.5": { input: 0.8, output: 4 },
};

const KEY_ENV = { openai: "OPENAI_API_KEY", anthropic: "ANTHROPIC_API_KEY", local: "" } as const;
const URL_ENV = { openai: "OPENAI_BASE_URL", anthropic: "ANTHROPIC_BASE_URL", local: "" } as const;
const DEFAULT_URL = {
  openai: "https://api.openai.com/v1",
  anthropic: "https://api.anthropic.com",
  local: "",
} as const;

/**
 * The environment variable a provider's key is read from: the one it names, else its kind's
 * usual one, except for a provider on the user's own machines (`local: true`), which gets no key
 * unless it names one: the user's OpenAI key must not go to a server on the network.
 */
export function keyEnvOf(p: ProviderConfig): string {
  return p.apiKeyEnv ?? (p.local ? "" : KEY_ENV[p.kind]);
}

/**
 * What is wrong with the providers' settings as this environment completes them (a base URL that
 * is no http(s) URL, from the configuration or its environment variable), each naming the
 * provider, the value and where it came from; empty when they can be used.
 */
export function providerProblems(
  config: LlmConfig,
  env: (name: string) => string | undefined,
): string[] {
  const problems: string[] = [];
  for (const p of config.providers) {
    if (p.kind === "local") continue;
    const url = baseUrlOf(p, env);
    const from = p.baseUrl ? "its baseUrl" : env(URL_ENV[p.kind]) ? URL_ENV[p.kind] : "its default";
    let ok = false;
    try {
      ok = ["http:", "https:"].includes(new URL(url).protocol);
    } catch {
      ok = false;
    }
    if (!ok) {
      problems.push(
        `provider ${p.name}: base URL "${url}" (from ${from}) is not an http(s) URL; ` +
          `give one such as http://127.0.0.1:11434/v1`,
      );
    }
  }
  return problems;
}

/** A provider's base URL: configured, else its usual environment variable, else its own. */
export function baseUrlOf(p: ProviderConfig, env: (name: string) => string | undefined): string {
  return p.baseUrl ?? (URL_ENV[p.kind] ? env(URL_ENV[p.kind]) : undefined) ?? DEFAULT_URL[p.kind];
}

/** The price of `model`: configured, else a default, else nothing (cost 0, said in the record). */
export function priceOf(config: LlmConfig, model: string): Price | undefined {
  return config.prices[model] ?? DEFAULT_PRICES[model] ??
    Object.entries(DEFAULT_PRICES).find(([name]) => model.startsWith(name))?.[1];
}

/** The first rule for this role and complexity, if any. */
export function routeFor(
  config: LlmConfig,
  role: string,
  complexity: Complexity,
): RouteRule | undefined {
  return config.routes.find((r) =>
    (r.role === undefined || r.role === role) &&
    (r.complexity === undefined || r.complexity === complexity)
  );
}

/**
 * A repository's complexity for the agents that work on it, by its number of files: the planner,
 * coder and test writer say it with their calls (a crude measure, known before any call).
 */
export function repoComplexity(files: number): Complexity {
  return files < 100 ? "low" : files < 2_000 ? "medium" : "high";
}

/** A prompt's complexity judged by its size, for callers that do not say (about 4 chars a token). */
export function complexityOf(chars: number): Complexity {
  return chars < 8_000 ? "low" : chars < 48_000 ? "medium" : "high";
}

/**
 * `--llm KIND --model NAME`: one provider of that kind, from the usual environment variables;
 * for `--llm local`, NAME is the path of a model folder.
 */
export function configFromFlags(kind: string, model: string): LlmConfig {
  if (!ProviderKind.safeParse(kind).success) {
    throw new Error(`--llm must be openai, anthropic or local, not "${kind}"`);
  }
  if (kind === "local") {
    const dir = resolve(model);
    return LlmConfig.parse({
      providers: [{ name: "local", kind, modelDir: dirname(dir), models: [basename(dir)] }],
    });
  }
  return LlmConfig.parse({ providers: [{ name: kind, kind, models: [model] }] });
}
