import { findLessons } from "../../actors/llm/lessons.ts";
import { LocalEmbedder } from "../../actors/llm/local_embedder.ts";
import { Ledger, type LedgerEngine } from "../../ledger/mod.ts";
import { defineCommand, ENGINE_FLAG, engineHelp, JSON_FLAG, LEDGER_FLAG } from "../command.ts";

export const lessons = defineCommand({
  name: "lessons",
  summary: "what past runs learned, most like QUERY first (--help)",
  usage: `Usage: deno task lessons QUERY [--limit N] [--embeddings DIR] [--ledger PATH]
                             [--engine E] [--json]

Lists the lessons of past runs (one per task: kind, agent, model, plan, outcome, error, tokens,
cost) that are most like QUERY: goal words, task kinds, models, errors. Ranked by BM25.

Options:
  --limit N        at most N lessons (default 10)
  --embeddings DIR rank by similarity of meaning with a local embedding model (a transformers.js
                   folder: config.json, tokenizer.json, onnx/model.onnx) instead of by words
  --ledger PATH    the ledger (default .troupe/ledger.duckdb)
${engineHelp(19)}
  --json           print them as JSON
  -h, --help       show this help`,
  flags: {
    limit: { type: "string", default: "10" },
    embeddings: { type: "string" },
    ledger: LEDGER_FLAG,
    engine: ENGINE_FLAG,
    json: JSON_FLAG,
  },
  async run(flags, positionals, fail) {
    const query = positionals.join(" ").trim();
    if (!query) return fail('give a QUERY, e.g. deno task lessons "add CI"');
    const limit = Number(flags.limit);
    if (!Number.isInteger(limit) || limit < 1) {
      return fail(`--limit must be a whole number, got "${flags.limit}"`);
    }
    await using ledger = await Ledger.open(flags.ledger, {
      readOnly: true,
      engine: flags.engine as LedgerEngine,
    });
    const embedder = flags.embeddings ? await LocalEmbedder.load(flags.embeddings) : undefined;
    const found = await findLessons(ledger, query, limit, embedder);
    if (flags.json) console.log(JSON.stringify(found, null, 2));
    else if (found.length === 0) console.log(`no lessons like "${query}" in ${flags.ledger}`);
    else {
      for (const l of found) {
        console.log(
          `${l.outcome.padEnd(9)} ${l.kind.padEnd(13)} ${(l.model ?? l.agent ?? "-").padEnd(20)} ` +
            `$${l.costUsd.toFixed(4)}  ${l.goal}${
              l.errorClass ? `  (${l.errorClass})` : ""
            }  [${l.runId}]`,
        );
      }
    }
    return 0;
  },
});
