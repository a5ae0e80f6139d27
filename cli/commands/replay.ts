import { Ledger, type LedgerEngine, replayRun } from "../../ledger/mod.ts";
import { defineCommand, ENGINE_FLAG, engineHelp, JSON_FLAG, LEDGER_FLAG } from "../command.ts";

export const replay = defineCommand({
  name: "replay",
  summary: "print the story of a run",
  usage: `Usage: deno task replay RUN_ID [--ledger PATH] [--engine native|wasm] [--json]

Prints the ordered story of a run from the ledger: who sent what to whom, starts, crashes,
restarts, decisions and failures.

Options:
  --ledger PATH  the ledger file (default .troupe/ledger.duckdb)
${engineHelp(17)}
  --json         print the story as JSON
  -h, --help     show this help`,
  flags: { ledger: LEDGER_FLAG, engine: ENGINE_FLAG, json: JSON_FLAG },
  async run(flags, [runId], fail) {
    if (!runId) return fail("give the RUN_ID to replay");
    const ledger = await Ledger.open(flags.ledger, {
      readOnly: true,
      engine: flags.engine as LedgerEngine,
    });
    try {
      const story = await replayRun(ledger, runId);
      if (story.length === 0) {
        const known = (await ledger.runs(5)).map((r) => r.runId).join(", ") || "none";
        console.error(
          `troupe replay: no events for run "${runId}" in ${flags.ledger}; recent runs: ${known}`,
        );
        return 1;
      }
      if (flags.json) console.log(JSON.stringify({ runId, story }, null, 2));
      else {for (const line of story) {
          console.log(`${String(line.seq).padStart(6)}  ${line.at}  ${line.text}`);
        }}
      return 0;
    } finally {
      await ledger.close();
    }
  },
});
