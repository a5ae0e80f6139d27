import Anthropic, {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
} from "@anthropic-ai/sdk";
import type { z } from "zod";
import type { ChatAnswer, ChatRequest, ModelProvider } from "./model_call.ts";
import {
  estimateTokens,
  headerReader,
  httpError,
  LlmError,
  retryAfterMs,
  stalled,
} from "./model_call.ts";

/**
 * Anthropic's Messages API through the official `@anthropic-ai/sdk`, streamed: the answer's text
 * from `content_block_delta` events, input tokens from `message_start`, output tokens from
 * `message_delta`. System messages go in `system`, as the API wants. No temperature is sent:
 * the Messages API (as `@anthropic-ai/sdk` 1.10 models it) takes none. The API has no JSON mode:
 * a JSON answer is asked for in words (the planner does), and checked by the caller.
 */
export class AnthropicProvider implements ModelProvider {
  readonly #client: Anthropic;

  readonly #baseURL: string;

  constructor(readonly name: string, baseURL: string, apiKey: string, timeoutMs: number) {
    this.#baseURL = baseURL;
    this.#client = new Anthropic({
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
    const system = request.messages.filter((m) => m.role === "system").map((m) => m.content)
      .join("\n\n");
    const messages = request.messages.filter((m) => m.role !== "system").map((m) => ({
      role: m.role as "user" | "assistant",
      content: m.content,
    }));
    try {
      const stream = await this.#client.messages.create({
        model,
        max_tokens: request.maxTokens,
        ...(system ? { system } : {}),
        messages,
        stream: true,
      }, { signal });
      let text = "";
      let answered = model;
      let input: number | undefined;
      let output: number | undefined;
      let finishReason: string | null = null;
      for await (const event of stream) {
        if (event.type === "message_start") {
          answered = event.message.model ?? model;
          input = event.message.usage?.input_tokens;
          output = event.message.usage?.output_tokens;
        } else if (event.type === "content_block_delta" && event.delta.type === "text_delta") {
          text += event.delta.text;
          onToken?.(event.delta.text);
        } else if (event.type === "message_delta") {
          if (event.usage?.output_tokens !== undefined) output = event.usage.output_tokens;
          finishReason = event.delta?.stop_reason ?? finishReason;
        }
      }
      // The SDK ends the stream quietly when the time limit aborts it: a cut answer is no answer.
      if (signal.aborted) throw stalled(this.name, model);
      if (finishReason === null) {
        throw new LlmError("llm_malformed", `${this.name} (${model}) ended its answer unfinished`);
      }
      // A server that sends no usage: the answer stands, its tokens estimated.
      const estimated = input === undefined || output === undefined;
      return {
        text,
        model: answered,
        inputTokens: input ?? estimateTokens(system + messages.map((m) => m.content).join("\n")),
        outputTokens: output ?? estimateTokens(text),
        finishReason,
        ...(estimated ? { tokensEstimated: true } : {}),
      };
    } catch (err) {
      // The gateway's time limit, reached while the answer streamed in: a stall is a timeout.
      if (signal.aborted && !(err instanceof LlmError)) throw stalled(this.name, model);
      throw classify(`${this.name} (${model})`, err, this.#baseURL);
    }
  }
}

function classify(at: string, err: unknown, baseURL: string): LlmError {
  if (err instanceof LlmError) return err;
  if (err instanceof APIConnectionTimeoutError || err instanceof APIUserAbortError) {
    return new LlmError("llm_timeout", `${at} did not answer in time`);
  }
  if (err instanceof APIConnectionError) {
    return new LlmError(
      "llm_unreachable",
      `${at} could not be reached at ${baseURL}: ${err.message}`,
    );
  }
  if (err instanceof APIError) {
    const detail = err.message.replace(/\s+/g, " ").slice(0, 300);
    if (err.status === undefined) return new LlmError("llm_malformed", `${at}: ${detail}`);
    return httpError(at, err.status, detail, retryAfterMs(headerReader(err.headers)));
  }
  const e = err as Error;
  return new LlmError("llm_malformed", `${at} answered something unreadable: ${e?.message ?? e}`);
}
