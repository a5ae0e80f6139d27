/**
 * A repo-ops run in a process of its own, for the chaos suite to SIGKILL at a random moment:
 * `run_process.ts LEDGER REPO OUT [--apply]` starts a run and `run_process.ts LEDGER --resume
 * RUN_ID` resumes one. Prints `started RUN_ID` as soon as the run is in the ledger, `finished` at
 * the end, or `stopped {"runId","seq"}` (exit 3) when the ledger could not be written.
 */
import { Ledger, type LedgerError } from "../ledger/mod.ts";
import { RunSession } from "../actors/mod.ts";

const [path, second, third, fourth] = Deno.args;
const ledger = await Ledger.open(path);
const session = second === "--resume"
  ? await RunSession.resume(ledger, third)
  : await RunSession.start(ledger, {
    repo: second,
    out: third,
    goal: "add CI to this repository",
    apply: fourth === "--apply",
  });
console.log(`started ${session.runId}`);
try {
  await session.run();
} catch (err) {
  // A run stopped by its ledger (a full disk) says so and how far the ledger got.
  console.log(`stopped ${JSON.stringify((err as LedgerError).context ?? {})}`);
  console.error((err as Error).message);
  Deno.exit(3);
}
await ledger.close();
console.log("finished");
Deno.exit(0); // see the note on DuckDB teardown in the README
