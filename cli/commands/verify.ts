import { Ledger, type LedgerEngine, verifyChain } from "../../ledger/mod.ts";
import { defineCommand, ENGINE_FLAG, engineHelp, JSON_FLAG, LEDGER_FLAG } from "../command.ts";

export const verify = defineCommand({
  name: "verify",
  summary: "check the ledger's hash chain",
  usage: `Usage: deno task verify [--ledger PATH] [--engine native|wasm] [--json]

Recomputes the ledger's hash chain from the first event. Exits 0 when it is intact, 1 naming
the first sequence number that does not match when a row was edited, deleted or reordered.

Options:
  --ledger PATH  the ledger file (default .troupe/ledger.duckdb)
${engineHelp(17)}
  --json         print the result as JSON
  -h, --help     show this help`,
  flags: { ledger: LEDGER_FLAG, engine: ENGINE_FLAG, json: JSON_FLAG },
  async run(flags) {
    const ledger = await Ledger.open(flags.ledger, {
      readOnly: true,
      engine: flags.engine as LedgerEngine,
    });
    try {
      const result = await verifyChain(ledger);
      if (flags.json) console.log(JSON.stringify({ ledger: flags.ledger, ...result }));
      else if (result.ok) {
        console.log(`ok: ${result.events} events, chain intact, head ${result.headHash}`);
      } else {
        console.error(
          `FAILED at seq ${result.seq}: ${result.reason} (${result.events} events verified before it)`,
        );
      }
      return result.ok ? 0 : 1;
    } finally {
      await ledger.close();
    }
  },
});
