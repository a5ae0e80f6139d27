/**
 * Runtime benchmarks: `deno task bench [--quick] [--json]`. Each figure is printed next to a
 * baseline or peer measured in the same run, as a ratio, so that results compare across
 * machines; the whole run also goes to `bench/results/latest.json` with the machine and Deno
 * version. `--quick` runs every benchmark once on tiny sizes (the test suite does, so that they
 * keep working; no timing is asserted anywhere).
 */
import { parseArgs } from "node:util";
import os from "node:os";
import type { Ratio, Section } from "./figure.ts";
import { benchCluster } from "./cluster_bench.ts";
import { benchClusterSim } from "./cluster_sim.ts";
import { benchControlLoad } from "./control_load.ts";
import { benchFork } from "./fork_bench.ts";
import { benchJournal } from "./journal_bench.ts";
import { benchLedger } from "./ledger_bench.ts";
import { benchMessages } from "./message_bench.ts";
import { benchPlugins } from "./plugin_bench.ts";
import { benchRecording } from "./recording_bench.ts";
import { benchSupervision } from "./supervision_bench.ts";
import { benchVerify } from "./verify_bench.ts";
import { benchWorkers } from "./worker_bench.ts";

const { values: flags } = parseArgs({
  args: Deno.args,
  options: {
    quick: { type: "boolean", default: false },
    json: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (flags.help) {
  console.log(`Usage: deno task bench [--quick] [--json]

Measures troupe's message path (Savina's workloads), worker actors, recording, event sourcing,
supervision, the ledger and sandboxes next to their raw limits and the peers (xstate v5, nact) in
the same run and prints ratios; writes bench/results/latest.json.

Options:
  --quick     every benchmark once, on tiny sizes (a smoke run: its figures mean nothing)
  --json      print every figure with its baseline and ratio as JSON
  -h, --help  show this help`);
  Deno.exit(0);
}
const quick = flags.quick;
// Human output goes to stderr under --json, so that stdout is one JSON document.
const say = flags.json ? (s = "") => console.error(s) : (s = "") => console.log(s);

const sections: [string, (quick: boolean) => Promise<Section>][] = [
  ["messages: Savina's workloads, asks, worker rings", benchMessages],
  ["worker actors", benchWorkers],
  ["a cluster of two nodes over NATS", benchCluster],
  ["a cluster simulation: node processes, many agents, one node killed", benchClusterSim],
  ["supervision and idle cost", benchSupervision],
  ["plugins", benchPlugins],
  // Last: with DuckDB loaded and no ledger open, Deno 2.8.2 can miss timers (see the README).
  ["recording every message", benchRecording],
  ["event-sourced actors", benchJournal],
  ["ledger", benchLedger],
  ["forking a big run", benchFork],
  ["replay --verify: a run re-executed from its record", benchVerify],
  ["the control endpoint's reads while runs go", benchControlLoad],
];
const figures: Section["figures"] = [];
const ratios: Ratio[] = [];
for (const [title, bench] of sections) {
  say(`${title}${quick ? " (--quick: tiny sizes, figures mean nothing)" : ""}`);
  const section = await bench(quick);
  for (const f of section.figures) {
    const value = f.value < 100
      ? f.value.toFixed(2).padStart(12)
      : Math.round(f.value).toLocaleString("en").padStart(12);
    const target = f.target ? ` (target ${f.target})` : "";
    say(`  ${f.name.padEnd(60)} ${value} ${f.unit ?? "/s"}${target}`);
  }
  figures.push(...section.figures);
  ratios.push(...section.ratios);
}
// Recording cannot outrun the storage under it: the ledger's raw appender is its limit too.
ratios.push([
  "every message recorded: asks to one inline actor",
  "ledger: raw DuckDB appender, same rows",
  "",
]);
const value = (name: string) => {
  const figure = figures.find((f) => f.name === name);
  if (!figure) throw new Error(`no figure named "${name}"`);
  return figure.value;
};
const compared = ratios.map(([figure, baseline, target]) => ({
  figure,
  baseline,
  ratio: value(figure) / value(baseline),
  target,
}));
say();
for (const c of compared) {
  const target = c.target ? ` (target ${c.target})` : "";
  say(`  ratio ${c.figure} ÷ ${c.baseline}: ${c.ratio.toFixed(2)}${target}`);
}
const result = {
  date: new Date().toISOString(),
  quick,
  machine: {
    cpus: os.cpus().length,
    model: os.cpus()[0]?.model,
    memoryGiB: os.totalmem() / 2 ** 30,
  },
  deno: Deno.version.deno,
  figures,
  ratios: compared,
};
if (!quick) {
  await Deno.mkdir(new URL("./results/", import.meta.url), { recursive: true });
  await Deno.writeTextFile(
    new URL("./results/latest.json", import.meta.url),
    JSON.stringify(result, null, 2) + "\n",
  );
}
if (flags.json) console.log(JSON.stringify(result, null, 2));
Deno.exit(0); // exit explicitly: see the note on DuckDB teardown in the README
