import { INT, T, tensor, writeOnnxModel } from "./onnx_model.ts";

/** GPT-2's byte-to-character table: every byte gets a printable stand-in in a byte-level vocab. */
function byteChars(): string[] {
  const printable = (b: number) =>
    (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  const out: string[] = [];
  let extra = 0;
  for (let b = 0; b < 256; b++) out[b] = String.fromCharCode(printable(b) ? b : 256 + extra++);
  return out;
}

/** Splits `text` into pieces of two or more characters, no two alike (each is its own token). */
function uniquePieces(text: string, size = 12): string[] {
  const seen = new Set<string>();
  const pieces: string[] = [];
  let i = 0;
  while (i < text.length) {
    let end = Math.min(text.length, i + size);
    while (end < text.length && seen.has(text.slice(i, end))) end++;
    let piece = text.slice(i, end);
    if (seen.has(piece) || piece.length < 2) {
      const last = pieces.pop() ?? "";
      seen.delete(last);
      piece = last + piece;
    }
    if (seen.has(piece)) throw new Error(`cannot split the answer into distinct pieces at ${i}`);
    seen.add(piece);
    pieces.push(piece);
    i = end;
  }
  return pieces;
}

/**
 * Builds a tiny chat model folder as transformers.js loads one for "text-generation": a GPT-2
 * style byte-level BPE `tokenizer.json` with a chat template, `config.json`,
 * `generation_config.json` and `onnx/model.onnx`. The graph is a bigram table (Gather): each
 * token's logits depend only on the token before it, and the table chains the pieces of `answer`
 * after the template's `<|assistant|>` token, then `<|end|>`. So whatever it is asked, it
 * answers `answer`, through the real tokenizer, template, generation loop and decoder.
 */
export async function buildTinyChatModel(dir: string, answer: string): Promise<string> {
  const chars = byteChars();
  const encode = (s: string) => [...new TextEncoder().encode(s)].map((b) => chars[b]).join("");
  const special = ["<|end|>", "<|system|>", "<|user|>", "<|assistant|>"];
  const pieces = uniquePieces(answer).map(encode);
  const vocab = [...chars, ...special, ...pieces];
  const id = (token: string) => vocab.indexOf(token);
  const [end, assistant] = [id("<|end|>"), id("<|assistant|>")];
  const size = vocab.length;
  // Every row prefers <|end|>, so a context the table does not know ends the answer at once.
  const table = new Float32Array(size * size).fill(-10);
  for (let row = 0; row < size; row++) table[row * size + end] = 10;
  const chain = [assistant, ...pieces.map((_, i) => chars.length + special.length + i), end];
  for (let i = 0; i + 1 < chain.length; i++) {
    table[chain[i] * size + end] = -10;
    table[chain[i] * size + chain[i + 1]] = 10;
  }
  await writeOnnxModel(dir, {
    name: "tiny-chat",
    initializer: [{
      name: "table",
      dims: [size, size],
      dataType: T.FLOAT,
      rawData: new Uint8Array(table.buffer),
    }],
    node: [{
      opType: "Gather",
      input: ["table", "input_ids"],
      output: ["logits"],
      attribute: [{ name: "axis", i: 0, type: INT }],
    }],
    input: [{
      name: "input_ids",
      type: tensor(T.INT64, [{ dimParam: "batch" }, { dimParam: "seq" }]),
    }],
    output: [{
      name: "logits",
      type: tensor(T.FLOAT, [{ dimParam: "batch" }, { dimParam: "seq" }, { dimValue: size }]),
    }],
  });
  const config = {
    model_type: "gpt2",
    vocab_size: size,
    n_layer: 1,
    n_head: 1,
    n_embd: 4,
    n_positions: 4096,
    bos_token_id: end,
    eos_token_id: end,
  };
  await Deno.writeTextFile(`${dir}/config.json`, JSON.stringify(config));
  await Deno.writeTextFile(
    `${dir}/generation_config.json`,
    JSON.stringify({ bos_token_id: end, eos_token_id: end, pad_token_id: end }),
  );
  await Deno.writeTextFile(
    `${dir}/tokenizer_config.json`,
    JSON.stringify({
      tokenizer_class: "GPT2Tokenizer",
      model_max_length: 4096,
      eos_token: "<|end|>",
      bos_token: "<|end|>",
      pad_token: "<|end|>",
      unk_token: "<|end|>",
      chat_template: "{% for m in messages %}<|{{ m.role }}|>{{ m.content }}<|end|>{% endfor %}" +
        "{% if add_generation_prompt %}<|assistant|>{% endif %}",
    }),
  );
  await Deno.writeTextFile(
    `${dir}/tokenizer.json`,
    JSON.stringify({
      version: "1.0",
      truncation: null,
      padding: null,
      added_tokens: special.map((content) => ({
        id: id(content),
        content,
        single_word: false,
        lstrip: false,
        rstrip: false,
        normalized: false,
        special: true,
      })),
      normalizer: null,
      pre_tokenizer: {
        type: "ByteLevel",
        add_prefix_space: false,
        trim_offsets: true,
        use_regex: true,
      },
      post_processor: null,
      decoder: { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true },
      model: {
        type: "BPE",
        dropout: null,
        unk_token: null,
        continuing_subword_prefix: "",
        end_of_word_suffix: "",
        fuse_unk: false,
        byte_fallback: false,
        vocab: Object.fromEntries(vocab.map((t, i) => [t, i])),
        merges: [],
      },
    }),
  );
  return dir;
}
