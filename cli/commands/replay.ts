import { Ledger, type LedgerEngine, replayRun } from "../../ledger/mod.ts";
import { valueAt, type VerifyResult, verifyRun } from "../../actors/mod.ts";
import { defineCommand, ENGINE_FLAG, engineHelp, JSON_FLAG, LEDGER_FLAG } from "../command.ts";

export const replay = defineCommand({
  name: "replay",
  summary: "print the story of a run, or re-execute it and compare (--verify)",
  usage: `Usage: deno task replay RUN_ID [--verify] [--ledger PATH] [--engine native|wasm] [--json]

Prints the ordered story of a run from the ledger: who sent what to whom, starts, crashes,
restarts, decisions and failures.

With --verify, runs it again with the code as it is now and compares every event it produces
with the recorded one. Nothing outside is called: model answers, tool results, test and CI
runs, the clock and random numbers come from the record, and reads of the repository are
checked against the digests it recorded (the repository must be as the run saw it). Prints
the first divergence (task, step, agent, the field that differs, both values) and the agents
whose code changed since the run; exits 0 when there is none, 1 when there is one.

Options:
  --verify       re-execute the run from its record and compare
  --ledger PATH  the ledger file (default .troupe/ledger.duckdb)
${engineHelp(17)}
  --json         print the story (or the verification) as JSON
  -h, --help     show this help`,
  flags: {
    ledger: LEDGER_FLAG,
    engine: ENGINE_FLAG,
    json: JSON_FLAG,
    verify: { type: "boolean", default: false },
  },
  async run(flags, [runId], fail) {
    if (!runId) return fail("give the RUN_ID to replay");
    const ledger = await Ledger.open(flags.ledger, {
      readOnly: true,
      engine: flags.engine as LedgerEngine,
    });
    try {
      if (flags.verify) {
        const result = await verifyRun(ledger, runId);
        if (flags.json) console.log(JSON.stringify(result, null, 2));
        else console.log(verificationText(result));
        return result.divergence ? 1 : 0;
      }
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

/** A verification for a person: the verdict, the first divergence, the agents that changed. */
function verificationText(r: VerifyResult): string {
  const lines: string[] = [];
  const d = r.divergence;
  if (!d) {
    lines.push(
      `verified: run ${r.runId} re-executed from its record; ${r.compared} of its ${r.events} ` +
        "events compared, no divergence",
    );
  } else {
    lines.push(
      `diverged: run ${r.runId} at task ${d.task}, step ${d.step} (agent ${d.agent}), field ${d.field}`,
    );
    const show = (label: string, e: typeof d.expected) => {
      if (!e) return lines.push(`  ${label}: (no event)`);
      // An effect is shown whole (what was asked, and what came back); a wholly different
      // event, as it is.
      const path = d.field.match(/^effects\[\d+\]/)?.[0] ??
        (["type", "actor"].includes(d.field) ? "" : d.field);
      const v = JSON.stringify(valueAt(e.payload, path)) ?? "undefined";
      lines.push(
        `  ${label}: ${e.type} by ${e.actor}: ${v.length > 400 ? `${v.slice(0, 400)}…` : v}`,
      );
    };
    show("expected", d.expected);
    show("actual", d.actual);
    if (/^effects\[\d+\]\.value$/.test(d.field)) {
      const kind = String(
        (valueAt(d.expected?.payload, d.field.slice(0, -6)) as { kind?: string })?.kind,
      );
      if (kind.startsWith("fs.")) {
        lines.push(
          "  the repository is not as the run read it: restore it (git checkout, git stash) " +
            "to verify the code",
        );
      }
    }
  }
  for (const c of r.changed) {
    lines.push(`code changed since the run: ${c.agent} ${c.recorded} → ${c.now}`);
  }
  return lines.join("\n");
}
