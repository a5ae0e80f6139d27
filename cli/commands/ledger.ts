import { exportParquet, type LedgerEngine } from "../../ledger/mod.ts";
import { defineCommand, ENGINE_FLAG, engineHelp, JSON_FLAG, LEDGER_FLAG } from "../command.ts";

export const ledgerCommand = defineCommand({
  name: "ledger",
  summary: "ledger maintenance: export --parquet DIR",
  usage:
    `Usage: deno task ledger export --parquet DIR [--ledger PATH] [--engine native|wasm] [--json]

Writes the ledger's events, in sequence order, to DIR/events.parquet.

Options:
  --parquet DIR  the folder to write to (created if missing)
  --ledger PATH  the ledger file (default .troupe/ledger.duckdb)
${engineHelp(17)}
  --json         print the result as JSON
  -h, --help     show this help`,
  flags: { parquet: { type: "string" }, ledger: LEDGER_FLAG, engine: ENGINE_FLAG, json: JSON_FLAG },
  async run(flags, [sub], fail) {
    if (sub !== "export") return fail("the only subcommand is: export");
    if (!flags.parquet) return fail("export needs --parquet DIR");
    const result = await exportParquet(flags.ledger, flags.parquet, flags.engine as LedgerEngine);
    console.log(
      flags.json ? JSON.stringify(result) : `wrote ${result.events} events to ${result.file}`,
    );
    return 0;
  },
});
