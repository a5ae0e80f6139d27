/**
 * Supervision and idle cost: a worker actor's crash to its first answer again next to a raw
 * terminate + new Worker + first answer; spawn rate; memory and CPU of idle worker actors next to
 * as many idle raw Workers, in the same run.
 */
import { ActorSystem, defineActor } from "../runtime/mod.ts";
import crasher from "./crasher_actor.ts";
import { type Figure, median, type Section } from "./figure.ts";

const ECHO = "data:text/javascript," +
  encodeURIComponent("self.onmessage = (e) => self.postMessage(e.data);");

async function answered(worker: Worker): Promise<void> {
  await new Promise((resolve) => {
    worker.onmessage = resolve;
    worker.postMessage(1);
  });
}

/** An idle probe's figures: resident memory per worker, and its share of a core while idle. */
async function idleCost(kind: "raw" | "actor", count: number, ms: number) {
  const probe = new URL("./idle_probe.ts", import.meta.url).pathname;
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-env",
      "--allow-sys",
      "--quiet",
      probe,
      kind,
      `${count}`,
      `${ms}`,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error(`the ${kind} idle probe failed`);
  return JSON.parse(new TextDecoder().decode(out.stdout)) as {
    rssPerWorker: number;
    cpuShare: number;
  };
}

/** An actor crashes; its supervisor restarts it (no backoff); it answers again: ms, each round. */
async function restarts(inline: boolean, rounds: number): Promise<number[]> {
  await using system = await ActorSystem.start({
    root: { backoff: { minMs: 0, maxMs: 0, randomFactor: 0 }, intensity: 1000 },
  });
  const ref = await system.spawn({
    id: "crasher",
    ...(inline
      ? { isolation: "inline", behaviour: crasher }
      : { behaviour: new URL("./crasher_actor.ts", import.meta.url).href }),
    observeMessages: false,
  });
  await ref.ask("ping");
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t = performance.now();
    await ref.ask("crash").catch(() => {});
    await ref.ask("ping", { timeoutMs: 30_000 });
    times.push(performance.now() - t);
  }
  return times;
}

export async function benchSupervision(quick: boolean): Promise<Section> {
  const rounds = quick ? 2 : 15;
  const idle = quick ? 2 : 20;
  const idleMs = quick ? 200 : 3000;
  // Raw: terminate a worker, start a new one, wait for its first answer.
  const raw: number[] = [];
  let bare = new Worker(ECHO, { type: "module" });
  await answered(bare);
  for (let i = 0; i < rounds; i++) {
    const t = performance.now();
    bare.terminate();
    bare = new Worker(ECHO, { type: "module" });
    await answered(bare);
    raw.push(performance.now() - t);
  }
  bare.terminate();
  const worker = await restarts(false, rounds);
  const inline = await restarts(true, rounds * 20);
  const n = quick ? 5 : 100;
  let spawnRate: number;
  {
    await using system = await ActorSystem.start();
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
  const rawIdle = await idleCost("raw", idle, idleMs);
  const actorIdle = await idleCost("actor", idle, idleMs);
  const figures = [
    { name: "crash to answering: raw terminate + new Worker", value: median(raw), unit: "ms" },
    { name: "crash to answering: troupe worker actor", value: median(worker), unit: "ms" },
    { name: "crash to answering: troupe inline actor", value: median(inline), unit: "ms" },
    { name: "spawn: troupe inline actors", value: spawnRate },
    {
      name: "idle memory per worker: raw Worker",
      value: rawIdle.rssPerWorker / 2 ** 20,
      unit: "MiB",
    },
    {
      name: "idle memory per worker: troupe worker actor",
      value: actorIdle.rssPerWorker / 2 ** 20,
      unit: "MiB",
    },
    {
      name: "idle CPU per worker: raw Worker",
      value: 100 * rawIdle.cpuShare,
      unit: "% of a core",
    },
    {
      name: "idle CPU per worker: troupe worker actor",
      value: 100 * actorIdle.cpuShare,
      unit: "% of a core",
      target: "≤ 0.05",
    },
  ] satisfies Figure[];
  return {
    figures,
    ratios: [
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
    ],
  };
}
