/**
 * Runtime benchmarks. Each figure is printed next to a baseline measured in the same run, as a
 * ratio, so that results compare across machines: `deno task bench`.
 */
import { ActorSystem } from "../runtime/mod.ts";
import { benchLedger } from "./ledger_bench.ts";
import { benchPlugins } from "./plugin_bench.ts";

const COUNTER = new URL("../actors/examples/counter.ts", import.meta.url).href;
const N = Number(Deno.env.get("BENCH_N") ?? 5000);

async function timed(label: string, n: number, fn: () => Promise<void>): Promise<number> {
  const start = performance.now();
  await fn();
  const perSecond = n / ((performance.now() - start) / 1000);
  console.log(`${label.padEnd(48)} ${Math.round(perSecond).toLocaleString("en").padStart(12)} /s`);
  return perSecond;
}

/** Baseline: a bare Deno Worker echoing postMessage round trips. */
async function rawWorkerRoundTrips(n: number): Promise<number> {
  const src = "data:text/javascript," +
    encodeURIComponent("self.onmessage = (e) => self.postMessage(e.data);");
  const worker = new Worker(src, { type: "module" });
  const rate = await timed("baseline: raw Worker postMessage round trip", n, async () => {
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

const system = await ActorSystem.start();
try {
  const worker = await system.spawn({
    id: "w",
    behaviour: COUNTER,
    observeMessages: false,
    mailbox: { capacity: 1024, overflow: "backpressure" },
  });
  const inline = await system.spawn({
    id: "i",
    behaviour: COUNTER,
    isolation: "inline",
    observeMessages: false,
  });
  await worker.ask({ type: "get" }); // warm up

  const raw = await rawWorkerRoundTrips(N);
  const workerAsk = await timed("troupe: ask a worker actor (sequential)", N, async () => {
    for (let i = 0; i < N; i++) await worker.ask({ type: "add", n: 1 });
  });
  const workerTell = await timed("troupe: send (backpressure) to a worker actor", N, async () => {
    for (let i = 0; i < N; i++) await worker.send({ type: "add", n: 1 });
    await worker.ask({ type: "get" });
  });
  const inlineAsk = await timed("troupe: ask an inline actor (sequential)", N, async () => {
    for (let i = 0; i < N; i++) await inline.ask({ type: "add", n: 1 });
  });
  console.log(`\nworker ask / raw round trip:  ${(workerAsk / raw).toFixed(2)}`);
  console.log(`worker tell / raw round trip: ${(workerTell / raw).toFixed(2)}`);
  console.log(`inline ask / raw round trip:  ${(inlineAsk / raw).toFixed(2)}`);
} finally {
  await system.stop();
}
console.log();
await benchLedger();
console.log();
await benchPlugins();
Deno.exit(0); // exit explicitly: see the note on DuckDB teardown in the README
