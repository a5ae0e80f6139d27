import Anthropic, {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
} from "@anthropic-ai/sdk";
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
    const messages = toAnthropic(request.messages.filter((m) => m.role !== "system"));
    try {
      const stream = await this.#client.messages.create({
        model,
        max_tokens: request.maxTokens,
        ...(system ? { system } : {}),
        messages,
        ...(request.tools.length
          ? {
            tools: request.tools.map((t) => ({
              name: t.name,
              description: t.description,
              input_schema: t.parameters as Anthropic.Messages.Tool["input_schema"],
            })),
          }
          : {}),
        stream: true,
      }, { signal });
      let text = "";
      let answered = model;
      let input: number | undefined;
      let output: number | undefined;
      let finishReason: string | null = null;
      // A tool_use block opens with its id and name; its input streams as JSON fragments.
      const calls = new Map<number, { id: string; name: string; args: string }>();
      for await (const event of stream) {
        if (event.type === "content_block_start" && event.content_block.type === "tool_use") {
          calls.set(event.index, {
            id: event.content_block.id,
            name: event.content_block.name,
            args: "",
          });
        } else if (
          event.type === "content_block_delta" && event.delta.type === "input_json_delta"
        ) {
          const call = calls.get(event.index);
          if (call) call.args += event.delta.partial_json;
        }
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
      return streamedAnswer(this.name, model, request, signal, {
        text,
        model: answered,
        finishReason,
        inputTokens: input,
        outputTokens: output,
        calls: [...calls.values()],
      });
    } catch (err) {
      // The gateway's time limit, reached while the answer streamed in: a stall is a timeout.
      if (signal.aborted && !(err instanceof LlmError)) throw stalled(this.name, model);
      throw classify(`${this.name} (${model})`, err, this.#baseURL);
    }
  }
}

/**
 * Messages in Anthropic's shape: an assistant's tool calls as `tool_use` blocks; tool results as
 * `tool_result` blocks of one user message (consecutive results go together, as the API wants).
 */
function toAnthropic(messages: ChatMessage[]): Anthropic.Messages.MessageParam[] {
  const out: Anthropic.Messages.MessageParam[] = [];
  for (const m of messages) {
    if (m.role === "tool") {
      const block = {
        type: "tool_result" as const,
        tool_use_id: m.toolCallId ?? "",
        content: m.content,
      };
      const last = out.at(-1);
      if (last?.role === "user" && Array.isArray(last.content)) last.content.push(block);
      else out.push({ role: "user", content: [block] });
    } else if (m.role === "assistant" && m.toolCalls?.length) {
      out.push({
        role: "assistant",
        content: [
          ...(m.content ? [{ type: "text" as const, text: m.content }] : []),
          ...m.toolCalls.map((c) => ({
            type: "tool_use" as const,
            id: c.id,
            name: c.name,
            input: c.arguments,
          })),
        ],
      });
    } else {
      out.push({ role: m.role as "user" | "assistant", content: m.content });
    }
  }
  return out;
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
