import { basename, dirname, resolve } from "node:path";
import { loadTransformers } from "./load_transformers.ts";
import { LlmError } from "./model_call.ts";

/**
 * Embeddings from a model folder on this machine, in process, through transformers.js
 * (`@huggingface/transformers`, on onnxruntime-node): a folder with `config.json`, the tokenizer
 * files and `onnx/model.onnx`, as the Hugging Face hub lays them out. Nothing is downloaded:
 * remote models are switched off, so a folder that is incomplete is an error that says so.
 */
export class LocalEmbedder {
  private constructor(
    readonly modelDir: string,
    private readonly extract: (texts: string[], options: object) => Promise<{
      dims: number[];
      data: ArrayLike<number>;
    }>,
  ) {}

  /** Loads the model in `modelDir`. */
  static async load(modelDir: string): Promise<LocalEmbedder> {
    const dir = resolve(modelDir);
    // Loaded when a model is: transformers.js loads native modules (onnxruntime, sharp) that
    // need FFI, which a command that uses no model must not ask for.
    const { pipeline } = await loadTransformers(dirname(dir));
    try {
      const extract = await pipeline("feature-extraction", basename(dir), { dtype: "fp32" });
      return new LocalEmbedder(dir, extract as never);
    } catch (err) {
      throw new LlmError(
        "llm_no_provider",
        `no embedding model could be loaded from ${dir} (config.json, tokenizer.json and ` +
          `onnx/model.onnx are needed): ${(err as Error).message}`,
      );
    }
  }

  /** One unit-length vector per text (mean-pooled over its tokens). */
  async embed(texts: string[]): Promise<number[][]> {
    if (texts.length === 0) return [];
    const out = await this.extract(texts, { pooling: "mean", normalize: true });
    const dim = out.dims[out.dims.length - 1];
    return texts.map((_, i) => Array.from(out.data).slice(i * dim, (i + 1) * dim));
  }
}

/** Cosine similarity of two vectors (their dot product when both have unit length). */
export function cosine(a: number[], b: number[]): number {
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return na && nb ? dot / Math.sqrt(na * nb) : 0;
}
