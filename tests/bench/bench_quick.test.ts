import assert from "node:assert/strict";
import { suitePermissions } from "../launch.ts";

const MAIN = new URL("../../bench/main.ts", import.meta.url).pathname;
/** What `deno task bench` runs with. */
const PERMISSIONS = suitePermissions();

async function bench(...args: string[]) {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...PERMISSIONS, "--quiet", MAIN, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: r.code, stdout: dec.decode(r.stdout), stderr: dec.decode(r.stderr) };
}

// The benchmarks keep working: each runs once on tiny sizes. No figure is asserted: timing goals
// live in `deno task bench`, never in a test.
Deno.test("deno task bench --quick runs every benchmark, troupe next to the raw limits and the peers, and prints ratios", async () => {
  const r = await bench("--quick");
  assert.equal(r.code, 0, r.stderr);
  // Every Savina workload runs on troupe and on each peer, next to the raw limit.
  const workloads = [
    "ping-pong",
    "counting",
    "fork-join throughput",
    "fork-join creation",
    "thread ring",
    "big",
    "chameneos",
  ];
  for (const workload of workloads) {
    for (const kit of ["troupe inline", "xstate v5", "nact", "bare microtask mailbox"]) {
      assert.match(
        r.stdout,
        new RegExp(`${workload}: ${kit}\\s+[\\d,.]+ /s`),
        `${workload}: ${kit}`,
      );
    }
    assert.match(r.stdout, new RegExp(`ratio ${workload}: troupe inline ÷ ${workload}: xstate v5`));
  }
  for (
    const figure of [
      "ping-pong: troupe worker actors",
      "worker round trip: raw Worker postMessage",
      "worker one-way: raw SharedArrayBuffer ring",
      "every message recorded: asks to one inline actor",
      "crash to answering: troupe inline actor",
      "ledger: hash-chained durable appends",
      "plugin call: troupe sandbox, over a raw call",
      "plugin asks: troupe plugin agent",
    ]
  ) assert.ok(r.stdout.includes(figure), `${figure} is measured`);
  const ratios = r.stdout.split("\n").filter((l) => l.includes(" ÷ "));
  assert.ok(ratios.length >= 25 && ratios.every((l) => /\bratio\b/.test(l)), ratios.join("\n"));
});

Deno.test("deno task bench --quick --json prints every figure with its baseline and ratio", async () => {
  const r = await bench("--quick", "--json");
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as {
    quick: boolean;
    deno: string;
    machine: { cpus: number };
    figures: { name: string; value: number }[];
    ratios: { figure: string; baseline: string; ratio: number }[];
  };
  assert.equal(out.quick, true);
  assert.equal(out.deno, Deno.version.deno);
  assert.ok(out.machine.cpus > 0);
  const names = new Set(out.figures.map((f) => f.name));
  for (const c of out.ratios) {
    assert.ok(names.has(c.figure) && names.has(c.baseline), `${c.figure} ÷ ${c.baseline}`);
    assert.ok(Number.isFinite(c.ratio) && c.ratio > 0);
  }
  const help = await bench("--help");
  assert.match(help.stdout, /Usage: deno task bench \[--quick\] \[--json\]/);
});
