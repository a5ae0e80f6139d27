/**
 * Runtime benchmarks: `deno task bench [--quick] [--json]`. Each figure is printed next to a
 * baseline or peer measured in the same run, as a ratio, so that results compare across
 * machines; the whole run also goes to `bench/results/latest.json` with the machine and Deno
 * version. `--quick` runs every benchmark once on tiny sizes (the test suite does, so that they
 * keep working; no timing is asserted anywhere).
 */
import { parseArgs } from "node:util";
import os from "node:os";
import { ActorSystem } from "../runtime/mod.ts";
import { benchJournal } from "./journal_bench.ts";
import { benchLedger } from "./ledger_bench.ts";
import { benchMessages, type Figure } from "./message_bench.ts";
import { benchPlugins } from "./plugin_bench.ts";
import { benchSupervision } from "./supervision_bench.ts";

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

Measures troupe's message path, ledger and sandbox next to their raw limits and the peers
(xstate v5, nact) in the same run and prints ratios; writes bench/results/latest.json.

Options:
  --quick     every benchmark once, on tiny sizes (a smoke run: its figures mean nothing)
  --json      print every figure with its baseline and ratio as JSON
  -h, --help  show this help`);
  Deno.exit(0);
}
const quick = flags.quick;
// Human output goes to stderr under --json, so that stdout is one JSON document.
const say = flags.json ? (s = "") => console.error(s) : (s = "") => console.log(s);

const COUNTER = new URL("../actors/examples/counter.ts", import.meta.url).href;
const N = quick ? 200 : Number(Deno.env.get("BENCH_N") ?? 5000);

async function timed(n: number, fn: () => Promise<void>): Promise<number> {
  const start = performance.now();
  await fn();
  return n / ((performance.now() - start) / 1000);
}

/** Baseline: a bare Deno Worker echoing postMessage round trips. */
async function rawWorkerRoundTrips(n: number): Promise<number> {
  const src = "data:text/javascript," +
    encodeURIComponent("self.onmessage = (e) => self.postMessage(e.data);");
  const worker = new Worker(src, { type: "module" });
  const rate = await timed(n, async () => {
    for (let i = 0; i < n; i++) {
      await new Promise((resolve) => {
        worker.onmessage = resolve;
        worker.postMessage({ type: "add", n: 1 });
      });
    }
  });
  worker.terminate();
  return rate;
}

/** Baseline: a burst of one-message-per-postMessage sends to a bare Worker, then one reply. */
async function rawWorkerBurst(n: number): Promise<number> {
  const src = "data:text/javascript," +
    encodeURIComponent(
      "let seen = 0; self.onmessage = (e) => { if (++seen === e.data.of) self.postMessage(seen); };",
    );
  const worker = new Worker(src, { type: "module" });
  const rate = await timed(n, async () => {
    const done = new Promise((resolve) => worker.onmessage = resolve);
    for (let i = 0; i < n; i++) worker.postMessage({ type: "add", n: 1, of: n });
    await done;
  });
  worker.terminate();
  return rate;
}

/** Worker actors next to a bare Worker's round trip and burst. */
async function benchWorkers(): Promise<Figure[]> {
  const system = await ActorSystem.start();
  try {
    const worker = await system.spawn({
      id: "w",
      behaviour: COUNTER,
      observeMessages: false,
      mailbox: { capacity: 1024, overflow: "backpressure" },
    });
    await worker.ask({ type: "get" }); // warm up
    const raw = await rawWorkerRoundTrips(N);
    const burst = await rawWorkerBurst(N * 20);
    const ask = await timed(N, async () => {
      for (let i = 0; i < N; i++) await worker.ask({ type: "add", n: 1 });
    });
    const send = await timed(N * 20, async () => {
      for (let i = 0; i < N * 20; i++) await worker.send({ type: "add", n: 1 });
      await worker.ask({ type: "get" });
    });
    return [
      { name: "worker round trip: raw Worker postMessage", value: raw },
      { name: "worker round trip: troupe ask", value: ask },
      { name: "worker one-way: raw postMessage burst", value: burst },
      { name: "worker one-way: troupe send (backpressure)", value: send },
    ];
  } finally {
    await system.stop();
  }
}

const messages = await benchMessages(quick);
const workers = await benchWorkers();
const journal = await benchJournal(quick);
const supervision = await benchSupervision(quick);
const figures = [...messages.figures, ...workers, ...journal, ...supervision];
const ratios: [string, string, string][] = [
  ...messages.ratios,
  ["worker round trip: troupe ask", "worker round trip: raw Worker postMessage", "≥ 0.9"],
  ["worker one-way: troupe send (backpressure)", "worker one-way: raw postMessage burst", "≥ 4.6"],
  [
    "event-sourced: persisted deposits, one actor",
    "event-sourced: ledger appends, as many at once",
    "",
  ],
  [
    "crash to answering: troupe worker actor",
    "crash to answering: raw terminate + new Worker",
    "≤ 1.3",
  ],
  [
    "idle memory per worker: troupe worker actor",
    "idle memory per worker: raw Worker",
    "≤ 1.15",
  ],
];
const value = (name: string) => figures.find((f) => f.name === name)!.value;
const fmt = (n: number) => Math.round(n).toLocaleString("en").padStart(12);
say(`messages per second${quick ? " (--quick: tiny sizes, figures mean nothing)" : ""}`);
for (const f of figures) {
  const unit = f.unit ? ` ${f.unit}` : " /s";
  const value = f.value < 100 ? f.value.toFixed(2).padStart(12) : fmt(f.value);
  say(`  ${f.name.padEnd(56)} ${value}${unit}`);
}
say();
const compared = ratios.map(([a, b, target]) => ({
  figure: a,
  baseline: b,
  ratio: value(a) / value(b),
  target,
}));
for (const c of compared) {
  say(
    `  ratio ${c.figure} ÷ ${c.baseline}: ${c.ratio.toFixed(2)}${
      c.target ? ` (target ${c.target})` : ""
    }`,
  );
}
say();
if (!flags.json) {
  await benchLedger(quick);
  console.log();
  await benchPlugins(quick);
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
