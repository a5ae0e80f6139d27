import { INT, T, tensor, writeOnnxModel } from "./onnx_model.ts";

/**
 * Builds a tiny BERT-style embedding model folder, as transformers.js loads one from disk: a
 * WordPiece `tokenizer.json`, `config.json`, and `onnx/model.onnx` whose graph looks each token
 * up in a 4-dimensional table (Gather) and masks padding (Cast, Unsqueeze, Mul). Words that mean
 * the same get the same direction, so similarity of meaning can be told from similarity of words:
 * "pipeline", "ci" and "workflow" point one way, "readme" and "docs" another.
 */
export async function buildTinyEmbedder(dir: string): Promise<string> {
  const table: Record<string, number[]> = {
    ci: [1, 0, 0, 0],
    pipeline: [1, 0, 0, 0],
    workflow: [0.9, 0.1, 0, 0],
    docs: [0, 1, 0, 0],
    readme: [0, 0.95, 0.05, 0],
    tests: [0, 0, 1, 0],
    add: [0, 0, 0, 0.2],
  };
  const words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", ...Object.keys(table)];
  const dim = 4;
  await writeOnnxModel(dir, {
    name: "tiny-embedder",
    initializer: [
      {
        name: "table",
        dims: [words.length, dim],
        dataType: T.FLOAT,
        floatData: words.flatMap((w) => table[w] ?? [0, 0, 0, 0]),
      },
      { name: "last_axis", dims: [1], dataType: T.INT64, int64Data: [-1] },
    ],
    node: [
      {
        opType: "Gather",
        input: ["table", "input_ids"],
        output: ["vectors"],
        attribute: [{ name: "axis", i: 0, type: INT }],
      },
      {
        opType: "Cast",
        input: ["attention_mask"],
        output: ["mask"],
        attribute: [{ name: "to", i: T.FLOAT, type: INT }],
      },
      { opType: "Unsqueeze", input: ["mask", "last_axis"], output: ["mask3"] },
      { opType: "Mul", input: ["vectors", "mask3"], output: ["last_hidden_state"] },
    ],
    input: ["input_ids", "attention_mask"].map((name) => ({
      name,
      type: tensor(T.INT64, [{ dimParam: "batch" }, { dimParam: "seq" }]),
    })),
    output: [{
      name: "last_hidden_state",
      type: tensor(T.FLOAT, [{ dimParam: "batch" }, { dimParam: "seq" }, { dimValue: dim }]),
    }],
  });
  await Deno.writeTextFile(
    `${dir}/config.json`,
    JSON.stringify({ model_type: "bert", hidden_size: dim, vocab_size: words.length }),
  );
  await Deno.writeTextFile(
    `${dir}/tokenizer_config.json`,
    JSON.stringify({
      tokenizer_class: "BertTokenizer",
      do_lower_case: true,
      model_max_length: 64,
      cls_token: "[CLS]",
      sep_token: "[SEP]",
      pad_token: "[PAD]",
      unk_token: "[UNK]",
    }),
  );
  const special = (id: string, n: number) => ({ id, ids: [n], tokens: [id] });
  await Deno.writeTextFile(
    `${dir}/tokenizer.json`,
    JSON.stringify({
      version: "1.0",
      truncation: null,
      padding: null,
      added_tokens: words.slice(0, 4).map((content, id) => ({
        id,
        content,
        single_word: false,
        lstrip: false,
        rstrip: false,
        normalized: false,
        special: true,
      })),
      normalizer: {
        type: "BertNormalizer",
        clean_text: true,
        handle_chinese_chars: true,
        strip_accents: null,
        lowercase: true,
      },
      pre_tokenizer: { type: "BertPreTokenizer" },
      post_processor: {
        type: "TemplateProcessing",
        single: [
          { SpecialToken: { id: "[CLS]", type_id: 0 } },
          { Sequence: { id: "A", type_id: 0 } },
          { SpecialToken: { id: "[SEP]", type_id: 0 } },
        ],
        pair: [],
        special_tokens: { "[CLS]": special("[CLS]", 2), "[SEP]": special("[SEP]", 3) },
      },
      decoder: { type: "WordPiece", prefix: "##", cleanup: true },
      model: {
        type: "WordPiece",
        unk_token: "[UNK]",
        continuing_subword_prefix: "##",
        max_input_chars_per_word: 100,
        vocab: Object.fromEntries(words.map((w, i) => [w, i])),
      },
    }),
  );
  return dir;
}
