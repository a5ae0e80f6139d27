import { resolve } from "node:path";
import type { z } from "zod";
import type { ChatAnswer, ChatRequest, ModelProvider } from "./model_call.ts";
import { loadTransformers } from "./load_transformers.ts";
import { LlmError } from "./model_call.ts";

// transformers.js's types are large and loose; the few calls made here are typed at their use.
type Generator = {
  tokenizer: {
    apply_chat_template(messages: unknown[], options: object): { input_ids: { dims: number[] } };
    batch_decode(ids: unknown, options: object): string[];
  };
  model: {
    generate(options: object): Promise<{ dims: number[]; slice(...ranges: unknown[]): unknown }>;
  };
};

/**
 * Chat with a model in this process through transformers.js (`@huggingface/transformers` on
 * onnxruntime-node, on the CPU): each model is a folder under `modelDir` as the Hugging Face
 * hub lays one out (`config.json`, the tokenizer files with a chat template, `onnx/model.onnx`).
 * Nothing is downloaded. A model is loaded on its first call and kept; tokens stream as they are
 * made, and the time limit is checked between tokens.
 */
export class LocalChatProvider implements ModelProvider {
  readonly #loaded = new Map<string, Promise<Generator>>();
  readonly #modelDir: string;

  constructor(readonly name: string, modelDir: string) {
    this.#modelDir = resolve(modelDir);
  }

  #load(model: string): Promise<Generator> {
    let loading = this.#loaded.get(model);
    if (!loading) {
      loading = (async () => {
        try {
          // Loaded when a local model is used: onnxruntime-node needs FFI.
          const { pipeline } = await loadTransformers(this.#modelDir);
          return await pipeline("text-generation", model, {
            dtype: "fp32",
          }) as unknown as Generator;
        } catch (err) {
          throw new LlmError(
            "llm_no_provider",
            `${this.name}: no chat model could be loaded from ${this.#modelDir}/${model} ` +
              `(config.json, tokenizer.json, tokenizer_config.json with a chat_template, and ` +
              `onnx/model.onnx are needed): ${(err as Error).message}`,
          );
        }
      })();
      // A folder that failed to load is tried again next time (it may have been fixed).
      loading.catch(() => this.#loaded.delete(model));
      this.#loaded.set(model, loading);
    }
    return loading;
  }

  async chat(
    model: string,
    request: z.output<typeof ChatRequest>,
    signal: AbortSignal,
    onToken?: (text: string) => void,
  ): Promise<ChatAnswer> {
    const { tokenizer, model: lm } = await this.#load(model);
    const { StoppingCriteria, TextStreamer } = await loadTransformers(this.#modelDir);
    let inputs;
    try {
      inputs = tokenizer.apply_chat_template(request.messages, {
        add_generation_prompt: true,
        return_dict: true,
      });
    } catch (err) {
      throw new LlmError(
        "llm_bad_request",
        `${this.name} (${model}) could not apply its chat template: ${(err as Error).message}`,
      );
    }
    const promptTokens = inputs.input_ids.dims[1];
    // Stops between tokens once the gateway's time limit has passed.
    class Deadline extends StoppingCriteria {
      override _call(ids: number[][]) {
        return ids.map(() => signal.aborted);
      }
    }
    const streamer = onToken
      ? new TextStreamer(tokenizer as never, {
        skip_prompt: true,
        skip_special_tokens: true,
        callback_function: onToken,
      })
      : undefined;
    const output = await lm.generate({
      ...inputs,
      max_new_tokens: request.maxTokens,
      do_sample: request.temperature > 0,
      ...(request.temperature > 0 ? { temperature: request.temperature } : {}),
      streamer,
      stopping_criteria: [new Deadline()],
    });
    if (signal.aborted) throw new LlmError("llm_timeout", `${this.name} (${model}) timed out`);
    const made = output.dims[1] - promptTokens;
    const [text] = tokenizer.batch_decode(output.slice(null, [promptTokens, null]), {
      skip_special_tokens: true,
    });
    return {
      text,
      model,
      inputTokens: promptTokens,
      outputTokens: made,
      finishReason: made >= request.maxTokens ? "length" : "stop",
    };
  }
}
