/**
 * The message path: Savina's workloads on troupe's inline actors, a bare microtask mailbox (the
 * raw limit in one thread) and the JavaScript peers, xstate v5 and nact, in the same run; asks
 * to an inline actor; and ping-pong and a thread ring of worker actors. Ratios are troupe ÷ the
 * other.
 */
import { ActorSystem, defineActor } from "../runtime/mod.ts";
import { KITS } from "./actor_kit.ts";
import { type Figure, rate, type Ratio, type Section } from "./figure.ts";
import { WORKLOADS } from "./savina.ts";

async function troupeAsks(n: number): Promise<number> {
  await using system = await ActorSystem.start();
  const ref = await system.spawn({
    id: "echo",
    isolation: "inline",
    observeMessages: false,
    behaviour: defineActor<number>({ receive: (m) => m }),
  });
  return await rate(n, async () => {
    for (let i = 0; i < n; i++) await ref.ask(i);
  });
}

/** A token passed `n` times around a ring of `size` worker actors (2: ping-pong). */
async function workerRing(size: number, n: number): Promise<number> {
  await using system = await ActorSystem.start();
  let done = Promise.withResolvers<void>();
  await system.spawn({
    id: "sink",
    isolation: "inline",
    observeMessages: false,
    behaviour: defineActor({ receive: () => done.resolve() }),
  });
  for (let i = 0; i < size; i++) {
    await system.spawn({
      id: `ring-${i}`,
      behaviour: new URL("./ring_actor.ts", import.meta.url).href,
      args: `ring-${(i + 1) % size}`,
      observeMessages: false,
    });
  }
  system.ref("ring-0").tell(size); // once around, so that every worker is warm
  await done.promise;
  done = Promise.withResolvers<void>();
  return await rate(n, async () => {
    system.ref("ring-0").tell(n);
    await done.promise;
  });
}

/**
 * The raw limit of a ring of worker actors: `size` bare Workers, each passing a token on (one fewer
 * each time) through the main thread, as worker actors' tells go: a hop is a worker's
 * `postMessage`, the main thread's handler and its `postMessage` to the next.
 */
async function rawWorkerRing(size: number, n: number): Promise<number> {
  const src = "self.onmessage = (e) => self.postMessage(e.data - 1);";
  const workers = Array.from(
    { length: size },
    () => new Worker("data:text/javascript," + encodeURIComponent(src), { type: "module" }),
  );
  try {
    const lap = (tokens: number) =>
      new Promise<void>((resolve) => {
        workers.forEach((w, i) => {
          w.onmessage = (e) => {
            if (e.data <= 0) resolve();
            else workers[(i + 1) % size].postMessage(e.data);
          };
        });
        workers[0].postMessage(tokens);
      });
    await lap(size); // once around, so that every worker is warm
    return await rate(n, () => lap(n));
  } finally {
    for (const w of workers) w.terminate();
  }
}

/** Every workload on every kit, best of `rounds`; then asks and worker rings. */
export async function benchMessages(quick: boolean): Promise<Section> {
  const n = quick ? 1_000 : 200_000;
  const rounds = quick ? 1 : 3;
  const figures: Figure[] = [];
  const ratios: Ratio[] = [];
  for (const workload of WORKLOADS) {
    const size = Math.max(10, Math.round(n * (workload.scale ?? 1)));
    for (const [kitName, makeKit] of KITS) {
      let top = 0;
      for (let r = 0; r < rounds; r++) {
        const kit = await makeKit(workload.capacity(size));
        try {
          const run = await workload.prepare(kit, size);
          top = Math.max(top, await rate(run.units, run.go));
        } finally {
          await kit.stop();
        }
      }
      figures.push({ name: `${workload.name}: ${kitName}`, value: top });
    }
    const troupe = `${workload.name}: troupe inline`;
    // Ahead of every peer on every workload (issue: the message path's third pass).
    const target = (peer: string) =>
      peer === "xstate v5"
        ? "≥ 1.0"
        : peer === "nact"
        ? workload.name === "ping-pong" ? "≥ 3" : "≥ 1.0"
        : workload.name === "counting"
        ? "≥ 0.5"
        : "";
    for (const peer of ["xstate v5", "nact", "bare microtask mailbox"]) {
      ratios.push([troupe, `${workload.name}: ${peer}`, target(peer)]);
    }
  }
  figures.push({ name: "ask from outside: troupe inline", value: await troupeAsks(n) });
  const hops = quick ? 100 : 20_000;
  figures.push({ name: "ping-pong: troupe worker actors", value: await workerRing(2, hops) });
  figures.push({
    name: "thread ring of 8: troupe worker actors",
    value: await workerRing(8, hops),
  });
  figures.push({ name: "ping-pong: bare Workers", value: await rawWorkerRing(2, hops) });
  figures.push({ name: "thread ring of 8: bare Workers", value: await rawWorkerRing(8, hops) });
  ratios.push(
    ["ping-pong: troupe worker actors", "ping-pong: bare Workers", "≥ 0.9"],
    ["thread ring of 8: troupe worker actors", "thread ring of 8: bare Workers", "≥ 0.9"],
  );
  return { figures, ratios };
}
