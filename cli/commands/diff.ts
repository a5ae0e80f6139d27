import { Ledger, type LedgerEngine } from "../../ledger/mod.ts";
import { diffRuns } from "../../actors/mod.ts";
import { defineCommand, ENGINE_FLAG, engineHelp, JSON_FLAG, LEDGER_FLAG } from "../command.ts";

export const diff = defineCommand({
  name: "diff",
  summary: "line two runs up task by task and file by file",
  usage: `Usage: deno task diff RUN_A RUN_B [--ledger PATH] [--engine native|wasm] [--json]

Lines two runs up from the ledger: tasks added, removed or changed (outcome, attempts, output),
with their attempts, durations, tokens and cost side by side, and the files each proposes, with
the diff between the two proposals of a file. In SQL: the run_tasks view.

Options:
  --ledger PATH  the ledger file (default .troupe/ledger.duckdb)
${engineHelp(17)}
  --json         print the comparison as JSON
  -h, --help     show this help`,
  flags: { ledger: LEDGER_FLAG, engine: ENGINE_FLAG, json: JSON_FLAG },
  async run(flags, [a, b, ...rest], fail) {
    if (!a || !b || rest.length) return fail("give two run ids: RUN_A RUN_B");
    const ledger = await Ledger.open(flags.ledger, {
      readOnly: true,
      engine: flags.engine as LedgerEngine,
    });
    try {
      const d = await diffRuns(ledger, a, b);
      if (flags.json) {
        console.log(JSON.stringify(d, null, 2));
        return 0;
      }
      const cell = (l?: { outcome: string; attempts: number; tokens: number }) =>
        l ? `${l.outcome} ×${l.attempts} ${l.tokens}tok` : "-";
      console.log(`${a} → ${b}`);
      for (const t of d.tasks) {
        const why = t.differs.length ? ` (${t.differs.join(", ")})` : "";
        console.log(
          `  ${t.change.padEnd(8)} ${t.taskId.padEnd(14)} ${cell(t.a).padEnd(28)} ${
            cell(t.b)
          }${why}`,
        );
      }
      for (const f of d.files) console.log(`  ${f.change.padEnd(8)} file ${f.path}`);
      for (const f of d.files.filter((f) => f.patch)) console.log(f.patch);
      const { a: ta, b: tb } = d.totals;
      console.log(
        `tasks ${ta.tasks} → ${tb.tasks}, failed ${ta.dead} → ${tb.dead}, tokens ${ta.tokens} → ` +
          `${tb.tokens}, cost $${ta.costUsd.toFixed(4)} → $${tb.costUsd.toFixed(4)}`,
      );
      return 0;
    } finally {
      await ledger.close();
    }
  },
});
