import OpenAI from "openai";
import type { z } from "zod";
import type { ChatAnswer, ChatMessage, ChatRequest, ModelProvider } from "./model_call.ts";
import {
  headerReader,
  httpError,
  LlmError,
  retryAfterMs,
  stalled,
  streamedAnswer,
} from "./model_call.ts";

/**
 * OpenAI-compatible chat completions through the official `openai` client: OpenAI itself, and
 * Ollama, vLLM, llama.cpp's server and LM Studio at their `/v1`. Answers stream, so tokens can be
 * shown as they come and a stalled stream is caught by the timeout; usage comes from the
 * stream's last chunk (`stream_options.include_usage`). The client's own retries are off: the
 * gateway retries and falls back, and counts each attempt.
 */
export class OpenAIProvider implements ModelProvider {
  readonly #client: OpenAI;

  readonly #baseURL: string;

  constructor(readonly name: string, baseURL: string, apiKey: string, timeoutMs: number) {
    this.#baseURL = baseURL;
    this.#client = new OpenAI({
      baseURL,
      apiKey: apiKey || "none",
      maxRetries: 0,
      timeout: timeoutMs,
    });
  }

  async chat(
    model: string,
    request: z.output<typeof ChatRequest>,
    signal: AbortSignal,
    onToken?: (text: string) => void,
  ): Promise<ChatAnswer> {
    try {
      const stream = await this.#client.chat.completions.create({
        model,
        messages: request.messages.map(toOpenAI),
        ...(request.tools.length
          ? {
            tools: request.tools.map((t) => ({
              type: "function" as const,
              function: { name: t.name, description: t.description, parameters: t.parameters },
            })),
          }
          : {}),
        max_tokens: request.maxTokens,
        temperature: request.temperature,
        stream: true,
        stream_options: { include_usage: true },
        ...(request.json ? { response_format: { type: "json_object" as const } } : {}),
      }, { signal });
      let text = "";
      let answered = model;
      let usage: { prompt_tokens: number; completion_tokens: number } | undefined;
      let finishReason: string | null = null;
      // Tool calls stream in pieces by index: the id and name first, the arguments in fragments.
      const calls: { id: string; name: string; args: string }[] = [];
      for await (const chunk of stream) {
        if (chunk.model) answered = chunk.model;
        if (chunk.usage) usage = chunk.usage;
        const choice = chunk.choices?.[0];
        const delta = choice?.delta?.content;
        if (delta) {
          text += delta;
          onToken?.(delta);
        }
        for (const t of choice?.delta?.tool_calls ?? []) {
          const call = calls[t.index] ??= { id: "", name: "", args: "" };
          if (t.id) call.id = t.id;
          if (t.function?.name) call.name += t.function.name;
          if (t.function?.arguments) call.args += t.function.arguments;
        }
        if (choice?.finish_reason) finishReason = choice.finish_reason;
      }
      // Servers that send no usage (some local ones): the answer stands, its tokens estimated.
      return streamedAnswer(this.name, model, request, signal, {
        text,
        model: answered,
        finishReason,
        inputTokens: usage?.prompt_tokens,
        outputTokens: usage?.completion_tokens,
        calls,
      });
    } catch (err) {
      // The gateway's time limit, reached while the answer streamed in: a stall is a timeout.
      if (signal.aborted && !(err instanceof LlmError)) throw stalled(this.name, model);
      throw classify(this.name, model, err, this.#baseURL);
    }
  }
}

/** A chat message in OpenAI's shape: tool calls as functions, tool results by call id. */
function toOpenAI(m: ChatMessage): OpenAI.Chat.Completions.ChatCompletionMessageParam {
  if (m.role === "tool") {
    return { role: "tool", tool_call_id: m.toolCallId ?? "", content: m.content };
  }
  if (m.role === "assistant" && m.toolCalls?.length) {
    return {
      role: "assistant",
      content: m.content || null,
      tool_calls: m.toolCalls.map((c) => ({
        id: c.id,
        type: "function" as const,
        function: { name: c.name, arguments: JSON.stringify(c.arguments) },
      })),
    };
  }
  return { role: m.role, content: m.content } as OpenAI.Chat.Completions.ChatCompletionMessageParam;
}

/** Maps the client's errors to the kinds the gateway acts on. */
function classify(provider: string, model: string, err: unknown, baseURL: string): LlmError {
  if (err instanceof LlmError) return err;
  const at = `${provider} (${model})`;
  // The only signal passed in is the gateway's time limit.
  if (err instanceof OpenAI.APIConnectionTimeoutError || err instanceof OpenAI.APIUserAbortError) {
    return new LlmError("llm_timeout", `${at} did not answer in time`);
  }
  if (err instanceof OpenAI.APIConnectionError) {
    return new LlmError(
      "llm_unreachable",
      `${at} could not be reached at ${baseURL}: ${err.message}`,
    );
  }
  if (err instanceof OpenAI.APIError) {
    const detail = err.message.replace(/\s+/g, " ").slice(0, 300);
    if (err.status === undefined) return new LlmError("llm_malformed", `${at}: ${detail}`);
    return httpError(at, err.status, detail, retryAfterMs(headerReader(err.headers)));
  }
  const e = err as Error;
  if (e?.name === "AbortError") return new LlmError("llm_timeout", `${at} was stopped: timed out`);
  return new LlmError("llm_malformed", `${at} answered something unreadable: ${e?.message ?? e}`);
}
