import { stringify } from "csv-stringify/sync";
import { Ledger, type LedgerEngine, VIEWS } from "../../ledger/mod.ts";
import { defineCommand, ENGINE_FLAG, engineHelp, LEDGER_FLAG } from "../command.ts";
import { formatTable } from "../format_table.ts";

const usage = `Usage: deno task sql ["SELECT …"] [--ledger PATH] [--format table|json|csv | --json]
                     [--engine native|wasm] [--timeout-ms N] [--max-rows N]

Runs one read-only SELECT over the ledger (reads it from stdin when not given). Writes, DDL,
COPY, ATTACH, INSTALL and file or network access are refused.

Tables and views:
  events  seq, ts, run_id, actor, type, causation_id, correlation_id, payload (JSON), prev_hash, hash
${VIEWS.map((v) => `  ${v.name.padEnd(18)}${v.about}`).join("\n")}

Options:
  --ledger PATH     the ledger file (default .troupe/ledger.duckdb)
${engineHelp(20)}
  --format F        table (default), json or csv
  --json            the same as --format json
  --timeout-ms N    stop the query after N ms (default 10000)
  --max-rows N      print at most N rows (default 10000)
  -h, --help        show this help`;

async function readStdin(): Promise<string> {
  return await new Response(Deno.stdin.readable).text();
}

export const sql = defineCommand({
  name: "sql",
  summary: "query the ledger with read-only SQL",
  usage,
  flags: {
    ledger: LEDGER_FLAG,
    engine: ENGINE_FLAG,
    format: { type: "string", default: "table" },
    json: { type: "boolean", default: false },
    "timeout-ms": { type: "string", default: "10000" },
    "max-rows": { type: "string", default: "10000" },
  },
  async run(flags, positionals, fail) {
    if (flags.json) flags.format = "json";
    if (!["table", "json", "csv"].includes(flags.format)) {
      return fail(`--format must be table, json or csv, not "${flags.format}"`);
    }
    const timeoutMs = Number(flags["timeout-ms"]);
    const maxRows = Number(flags["max-rows"]);
    if (!(timeoutMs > 0) || !Number.isInteger(maxRows) || maxRows < 1) {
      return fail("--timeout-ms and --max-rows take positive whole numbers");
    }
    const query = (positionals.join(" ") || await readStdin()).trim();
    if (!query) return fail("give a query as an argument or on stdin");
    const ledger = await Ledger.open(flags.ledger, {
      readOnly: true,
      engine: flags.engine as LedgerEngine,
    });
    try {
      const result = await ledger.query(query, { timeoutMs, maxRows });
      if (flags.format === "json") console.log(JSON.stringify(result.rows, null, 2));
      else if (flags.format === "csv") {
        const cast = { object: (v: object) => JSON.stringify(v) };
        console.log(
          stringify(result.rows, { header: true, columns: result.columns, cast }).trimEnd(),
        );
      } else console.log(formatTable(result.columns, result.rows));
      if (result.truncated) {
        console.error(`(only the first ${maxRows} rows are shown; raise --max-rows)`);
      }
      return 0;
    } finally {
      await ledger.close();
    }
  },
});
