import { resolve } from "node:path";
import { runChaos } from "../../chaos/chaos_suite.ts";
import { tryHostileRequests } from "../../chaos/hostile_requests.ts";
import { defineCommand, JSON_FLAG } from "../command.ts";

export const chaos = defineCommand({
  name: "chaos",
  summary: "kill agents mid-run and try hostile inputs: nothing lost, nothing escapes (--help)",
  usage: `Usage: deno task chaos [--faults N] [--soak MINUTES] [--seed N] [--repo PATH] [--json]

Runs the repo-ops team on a repository (a small Node project by default) while killing its worker
actors at random moments; SIGKILLs whole runs and resumes them; fills the ledger's disk mid-run
and resumes once there is space; makes agents spin, hang and leak inside a run. Then checks each
run: every task that started ended exactly once, the run finished, the ledger's hash chain holds,
sequence numbers have no gap and every event the ledger acknowledged is stored. Then tries
hostile inputs on the real parts: SQL that writes, attaches, copies, reads files or runs forever;
messages of every wrong shape, size and kind and a flood past a mailbox's bound; plugins that
loop, hoard memory, trap, recurse, flood their output, fail, or are malformed, truncated, unknown
or ungranted; generated code that reaches for files, the network, the environment and processes;
malformed and hostile policy files; malformed, mistyped, huge and unauthorized HTTP requests to
every route of the control endpoint. Exits 1 if anything was lost or escaped; a failing --seed
repeats the faults.

Options:
  --faults N       inject at least N faults (default 50)
  --soak MINUTES   keep injecting faults for this long (a soak run)
  --seed N         the random seed (default: a random one, printed)
  --repo PATH      run on this repository (copied first; never changed)
  --json           print the report as JSON: faults_injected, inputs_tried, tasks_completed,
                   events_written, events_lost, escapes, seed, …
  -h, --help       show this help`,
  flags: {
    faults: { type: "string", default: "50" },
    soak: { type: "string" },
    seed: { type: "string" },
    repo: { type: "string" },
    json: JSON_FLAG,
  },
  async run(flags, _positionals, fail) {
    const faults = Number(flags.faults);
    if (!Number.isInteger(faults) || faults < 1) {
      return fail(`--faults must be a whole number of at least 1, got "${flags.faults}"`);
    }
    const soak = flags.soak === undefined ? undefined : Number(flags.soak);
    if (soak !== undefined && !(soak > 0)) {
      return fail(`--soak must be a positive number of minutes, got "${flags.soak}"`);
    }
    const seed = flags.seed === undefined
      ? crypto.getRandomValues(new Uint32Array(1))[0]
      : Number(flags.seed);
    if (!Number.isInteger(seed)) return fail(`--seed must be a whole number, got "${flags.seed}"`);
    const report = await runChaos({
      seed,
      faults,
      ...(soak ? { soakMinutes: soak } : {}),
      ...(flags.repo ? { repo: resolve(flags.repo) } : {}),
      // The HTTP endpoint's hostile requests: the suite lives below the endpoint's layer.
      moreInputs: async (scratch) => (await tryHostileRequests(scratch)).tried,
      onProgress: (line) => console.error(line),
    });
    if (flags.json) console.log(JSON.stringify(report, null, 2));
    else {
      const rows: [string, number][] = [
        ["seed", report.seed],
        ["faults injected", report.faults_injected],
        ["runs", report.runs],
        ["tasks completed", report.tasks_completed],
        ["hostile inputs tried", report.inputs_tried],
        ["events written", report.events_written],
        ["events lost", report.events_lost],
        ["escapes", report.escapes],
      ];
      for (const [name, value] of rows) console.log(`${name.padEnd(22)} ${value}`);
      for (const p of report.problems) console.log(`problem: ${p}`);
    }
    return report.events_lost === 0 && report.escapes === 0 ? 0 : 1;
  },
});
