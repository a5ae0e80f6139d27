import { exportParquet } from "../../ledger/mod.ts";
import {
  type Command,
  HELP_FLAG,
  JSON_FLAG,
  LEDGER_FLAG,
  parseFlags,
  reportErrors,
  usageError,
} from "../command.ts";

const usage = `Usage: deno task ledger export --parquet DIR [--ledger PATH] [--json]

Writes the ledger's events, in sequence order, to DIR/events.parquet.

Options:
  --parquet DIR  the folder to write to (created if missing)
  --ledger PATH  the ledger file (default .troupe/ledger.duckdb)
  --json         print the result as JSON
  -h, --help     show this help`;

export const ledgerCommand: Command = {
  name: "ledger",
  summary: "ledger maintenance: export --parquet DIR",
  usage,
  main: (args) =>
    reportErrors(ledgerCommand, async () => {
      let parsed;
      try {
        parsed = parseFlags(args, {
          parquet: { type: "string" },
          ledger: LEDGER_FLAG,
          json: JSON_FLAG,
          help: HELP_FLAG,
        });
      } catch (err) {
        return usageError(ledgerCommand, (err as Error).message);
      }
      const flags = parsed.values;
      if (flags.help) return console.log(usage), 0;
      if (parsed.positionals[0] !== "export") {
        return usageError(ledgerCommand, "the only subcommand is: export");
      }
      if (!flags.parquet) {
        return usageError(ledgerCommand, "export needs --parquet DIR");
      }
      const result = await exportParquet(flags.ledger, flags.parquet);
      console.log(
        flags.json ? JSON.stringify(result) : `wrote ${result.events} events to ${result.file}`,
      );
      return 0;
    }),
};
