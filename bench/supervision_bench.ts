/**
 * Supervision and idle cost: a worker actor's crash to its first answer again next to a raw
 * terminate + new Worker + first answer; spawn rate; memory and CPU of idle worker actors next to
 * as many idle raw Workers, in the same run.
 */
import process from "node:process";
import { ActorSystem, defineActor } from "../runtime/mod.ts";
import type { Figure } from "./message_bench.ts";

const COUNTER = new URL("../actors/examples/counter.ts", import.meta.url).href;
const ECHO = "data:text/javascript," +
  encodeURIComponent("self.onmessage = (e) => self.postMessage(e.data);");

const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function answered(worker: Worker): Promise<void> {
  await new Promise((resolve) => {
    worker.onmessage = resolve;
    worker.postMessage(1);
  });
}

/** Resident memory and CPU time spent while `count` workers sit idle for `ms`. */
async function idleCost(start: () => Promise<() => Promise<void>>, ms: number) {
  const rss0 = process.memoryUsage().rss;
  const stop = await start();
  await new Promise((r) => setTimeout(r, 300)); // let them settle
  const rss = process.memoryUsage().rss - rss0;
  const cpu0 = process.cpuUsage();
  await new Promise((r) => setTimeout(r, ms));
  const cpu = process.cpuUsage(cpu0);
  await stop();
  return { rss, cpuShare: (cpu.user + cpu.system) / 1000 / ms };
}

export async function benchSupervision(quick: boolean): Promise<Figure[]> {
  const rounds = quick ? 2 : 15;
  const idle = quick ? 2 : 20;
  const idleMs = quick ? 200 : 3000;
  // Raw: terminate a worker, start a new one, wait for its first answer.
  const raw: number[] = [];
  let worker = new Worker(ECHO, { type: "module" });
  await answered(worker);
  for (let i = 0; i < rounds; i++) {
    const t = performance.now();
    worker.terminate();
    worker = new Worker(ECHO, { type: "module" });
    await answered(worker);
    raw.push(performance.now() - t);
  }
  worker.terminate();
  // troupe: a worker actor crashes; its supervisor restarts it (no backoff); it answers again.
  const restarts: number[] = [];
  let spawnRate = 0;
  {
    await using system = await ActorSystem.start({
      root: { backoff: { minMs: 0, maxMs: 0, randomFactor: 0 }, intensity: 1000 },
    });
    const ref = await system.spawn({
      id: "crasher",
      behaviour: new URL("./crasher_actor.ts", import.meta.url).href,
      observeMessages: false,
    });
    await ref.ask("ping");
    for (let i = 0; i < rounds; i++) {
      const t = performance.now();
      await ref.ask("crash").catch(() => {});
      await ref.ask("ping", { timeoutMs: 30_000 });
      restarts.push(performance.now() - t);
    }
    const n = quick ? 5 : 100;
    const t = performance.now();
    for (let i = 0; i < n; i++) {
      await system.spawn({
        id: `inline-${i}`,
        isolation: "inline",
        behaviour: defineActor({ receive: () => {} }),
      });
    }
    spawnRate = n / ((performance.now() - t) / 1000);
  }
  const rawIdle = await idleCost(async () => {
    const workers = Array.from({ length: idle }, () => new Worker(ECHO, { type: "module" }));
    await Promise.all(workers.map(answered));
    return async () => workers.forEach((w) => w.terminate());
  }, idleMs);
  const actorIdle = await idleCost(async () => {
    const system = await ActorSystem.start();
    for (let i = 0; i < idle; i++) {
      await system.spawn({ id: `idle-${i}`, behaviour: COUNTER, observeMessages: false });
    }
    return () => system.stop();
  }, idleMs);
  return [
    { name: "crash to answering: raw terminate + new Worker", value: median(raw), unit: "ms" },
    { name: "crash to answering: troupe worker actor", value: median(restarts), unit: "ms" },
    { name: "spawn: troupe inline actors", value: spawnRate },
    {
      name: "idle memory per worker: raw Worker",
      value: rawIdle.rss / idle / 2 ** 20,
      unit: "MiB",
    },
    {
      name: "idle memory per worker: troupe worker actor",
      value: actorIdle.rss / idle / 2 ** 20,
      unit: "MiB",
    },
    {
      name: "idle CPU per worker: raw Worker",
      value: 100 * rawIdle.cpuShare / idle,
      unit: "% of a core",
    },
    {
      name: "idle CPU per worker: troupe worker actor",
      value: 100 * actorIdle.cpuShare / idle,
      unit: "% of a core",
    },
  ];
}
