import { z } from "zod";
import { TroupeError } from "../../runtime/errors.ts";
import { Complexity } from "./llm_config.ts";

/** A tool a model may call: its name, what it does, and its arguments' JSON Schema. */
export const ToolSpec = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "letters, digits, _ and -, at most 64"),
  description: z.string(),
  /** A JSON Schema of type object. */
  parameters: z.record(z.string(), z.unknown()),
});
/** A tool offered to a model. */
export type ToolSpec = z.infer<typeof ToolSpec>;

/** A call a model made: the id its result is given back by, the tool and its arguments. */
export const ToolCall = z.strictObject({
  id: z.string().min(1),
  name: z.string().min(1),
  arguments: z.record(z.string(), z.unknown()),
});
/** A model's tool call. */
export type ToolCall = z.infer<typeof ToolCall>;

/**
 * One message of a chat: an assistant's may carry the tool calls it made; a `tool` message is
 * one call's result, by the call's id.
 */
export const ChatMessage = z.strictObject({
  role: z.enum(["system", "user", "assistant", "tool"]),
  content: z.string(),
  toolCalls: z.array(ToolCall).optional(),
  toolCallId: z.string().min(1).optional(),
});
/** A chat message. */
export type ChatMessage = z.infer<typeof ChatMessage>;

/** What an agent asks the gateway. */
export const ChatRequest = z.strictObject({
  type: z.literal("chat"),
  /** The asking agent's role (planner, coder, reviewer, …): the router's rules read it. */
  role: z.string().min(1),
  messages: z.array(ChatMessage).min(1),
  /** Tools the model may call, through the provider's own tool calling. */
  tools: z.array(ToolSpec).default([]),
  /** Ask for a JSON object as the answer, where the provider supports it. */
  json: z.boolean().default(false),
  maxTokens: z.number().int().positive().max(200_000).default(4096),
  temperature: z.number().min(0).max(2).default(0),
  /** Models in the order the caller prefers them (the router's ranking); the rest after. */
  prefer: z.array(z.string()).default([]),
  /**
   * Providers whose last answer to this task could not be used (an invalid plan): tried after
   * the others, so content that fails validation moves to the next provider as errors do.
   */
  avoid: z.array(z.string()).default([]),
  /** How much the task asks; left out, the gateway judges it by the prompt's size. */
  complexity: Complexity.optional(),
  /** Private code: only local providers may see it (a policy decision made by the caller). */
  localOnly: z.boolean().default(false),
  /** For the ledger: which run and task the call serves. */
  runId: z.string().nullable().default(null),
  taskId: z.string().nullable().default(null),
});
/** A chat request as sent, defaults not yet filled in. */
export type ChatRequestInput = z.input<typeof ChatRequest>;

/** What a provider answered. */
export interface ChatAnswer {
  text: string;
  /** The model that answered, as the provider reports it. */
  model: string;
  inputTokens: number;
  outputTokens: number;
  finishReason: string | null;
  /** The provider sent no usage: the tokens are estimated (about four characters a token). */
  tokensEstimated?: boolean;
  /** The tools the model called, in order (its answer's text may be empty then). */
  toolCalls?: ToolCall[];
}

/** What a provider's stream held when it ended, before it is taken as an answer. */
export interface Streamed {
  text: string;
  /** The model that answered, as the stream reported it. */
  model: string;
  finishReason: string | null;
  /** The provider's own counts, where it sent them. */
  inputTokens?: number;
  outputTokens?: number;
  /** Tool calls as streamed: id, name and the arguments' JSON text. */
  calls: { id: string; name: string; args: string }[];
}

/**
 * The answer a stream came to, the same for every provider: a stream cut by the time limit (the
 * SDKs end it quietly) is a stall, one with no finish reason is unfinished; missing usage is
 * estimated and said so; tool calls' arguments are parsed.
 */
export function streamedAnswer(
  provider: string,
  model: string,
  request: { messages: ChatMessage[] },
  signal: AbortSignal,
  s: Streamed,
): ChatAnswer {
  if (signal.aborted) throw stalled(provider, model);
  if (s.finishReason === null) {
    throw new LlmError("llm_malformed", `${provider} (${model}) ended its answer unfinished`);
  }
  const estimated = s.inputTokens === undefined || s.outputTokens === undefined;
  return {
    text: s.text,
    model: s.model,
    inputTokens: s.inputTokens ??
      estimateTokens(request.messages.map((m) => m.content).join("\n")),
    outputTokens: s.outputTokens ?? estimateTokens(s.text),
    finishReason: s.finishReason,
    ...(estimated ? { tokensEstimated: true } : {}),
    ...(s.calls.length
      ? {
        toolCalls: s.calls.map((c) => ({
          id: c.id,
          name: c.name,
          arguments: toolArguments(provider, c.name, c.args),
        })),
      }
      : {}),
  };
}

/** A tool call's arguments as the model streamed them: a JSON object, or a clear error. */
export function toolArguments(
  provider: string,
  name: string,
  json: string,
): Record<string, unknown> {
  try {
    const value = json.trim() === "" ? {} : JSON.parse(json);
    if (value && typeof value === "object" && !Array.isArray(value)) return value;
  } catch {
    // reported below
  }
  throw new LlmError(
    "llm_malformed",
    `${provider} called ${name} with arguments that are not a JSON object: ${json.slice(0, 200)}`,
  );
}

/** A provider that began to answer and did not finish within the time limit: a timeout. */
export function stalled(provider: string, model: string): LlmError {
  return new LlmError(
    "llm_timeout",
    `${provider} (${model}) stalled: the answer did not end in time`,
  );
}

/** Tokens estimated from text, where a provider does not count them (about 4 characters each). */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/** Why a model call failed; the gateway's retries and fallbacks go by it. */
export type LlmErrorCode =
  | "llm_timeout"
  | "llm_rate_limited"
  | "llm_unavailable"
  | "llm_unreachable"
  | "llm_context_too_long"
  | "llm_bad_request"
  | "llm_auth"
  | "llm_malformed"
  | "llm_no_provider"
  | "llm_budget";

/** A failed model call, with what to do about it. */
export class LlmError extends TroupeError<LlmErrorCode> {
  constructor(
    code: LlmErrorCode,
    message: string,
    /** For `llm_rate_limited`: how long the provider asked to wait. */
    readonly retryAfterMs?: number,
  ) {
    super(code, message, retryAfterMs === undefined ? {} : { retryAfterMs });
    this.name = "LlmError";
  }

  /** Worth trying again, on this provider or the next. */
  get transient(): boolean {
    return ["llm_timeout", "llm_rate_limited", "llm_unavailable", "llm_unreachable"].includes(
      this.code,
    );
  }
}

/** A provider: one way to send a chat and get an answer. */
export interface ModelProvider {
  readonly name: string;
  chat(
    model: string,
    request: z.output<typeof ChatRequest>,
    signal: AbortSignal,
    onToken?: (text: string) => void,
  ): Promise<ChatAnswer>;
}

/**
 * The kind of a provider's HTTP error, the same for every provider: 429 (with how long it asked
 * to wait), 401/403, 5xx and 529 (overloaded), a context that is too long, other 4xx.
 */
export function httpError(
  at: string,
  status: number,
  detail: string,
  retryAfterMs?: number,
): LlmError {
  if (status === 429) {
    return new LlmError("llm_rate_limited", `${at} is rate limited: ${detail}`, retryAfterMs);
  }
  if (status === 401 || status === 403) {
    return new LlmError("llm_auth", `${at} refused the key: ${detail}`);
  }
  if (status >= 500) {
    return new LlmError("llm_unavailable", `${at} failed with ${status}: ${detail}`);
  }
  if (/context|too long|maximum.*tokens|prompt is too long/i.test(detail)) {
    return new LlmError("llm_context_too_long", `${at}: the request is too long: ${detail}`);
  }
  return new LlmError("llm_bad_request", `${at} refused the request (${status}): ${detail}`);
}

/** `retry-after-ms`, or `retry-after` in seconds or as an HTTP date, in milliseconds. */
export function retryAfterMs(get: (name: string) => string | null | undefined): number | undefined {
  const ms = Number(get("retry-after-ms") ?? NaN);
  if (Number.isFinite(ms) && ms >= 0) return ms;
  const s = get("retry-after");
  if (s === null || s === undefined) return undefined;
  const secs = Number(s);
  if (Number.isFinite(secs)) return secs * 1000;
  const date = Date.parse(s);
  return Number.isFinite(date) ? Math.max(0, date - Date.now()) : undefined;
}

/** Reads a header from the shapes SDKs give (a `Headers` or a plain record). */
export function headerReader(h: unknown): (name: string) => string | null | undefined {
  return (name) =>
    h instanceof Headers ? h.get(name) : (h as Record<string, string> | undefined)?.[name];
}
