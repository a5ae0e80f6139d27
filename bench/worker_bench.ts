/**
 * Worker actors next to the raw limits between two threads, in the same run: a bare Worker's
 * `postMessage` round trip and burst, and a SharedArrayBuffer ring (no copying, no event loop).
 */
import { ActorSystem } from "../runtime/mod.ts";
import { rate, type Section } from "./figure.ts";

const COUNTER = new URL("../actors/examples/counter.ts", import.meta.url).href;

const worker = (source: string) =>
  new Worker("data:text/javascript," + encodeURIComponent(source), { type: "module" });

/** A bare Deno Worker echoing postMessage round trips. */
async function rawRoundTrips(n: number): Promise<number> {
  const echo = worker("self.onmessage = (e) => self.postMessage(e.data);");
  try {
    return await rate(n, async () => {
      for (let i = 0; i < n; i++) {
        await new Promise((resolve) => {
          echo.onmessage = resolve;
          echo.postMessage({ type: "add", n: 1 });
        });
      }
    });
  } finally {
    echo.terminate();
  }
}

/** A burst of one-message-per-postMessage sends to a bare Worker, then one reply. */
async function rawBurst(n: number): Promise<number> {
  const counter = worker(
    "let seen = 0; self.onmessage = (e) => { if (++seen === e.data.of) self.postMessage(seen); };",
  );
  try {
    return await rate(n, async () => {
      const done = new Promise((resolve) => counter.onmessage = resolve);
      for (let i = 0; i < n; i++) counter.postMessage({ type: "add", n: 1, of: n });
      await done;
    });
  } finally {
    counter.terminate();
  }
}

/** Slots in the raw ring; the header holds the writer's and the reader's positions. */
const RING = 4096;

/**
 * One-way messages (one 32-bit number each) through a SharedArrayBuffer ring to a Worker that
 * blocks in `Atomics.wait` while it is empty; the writer publishes every 64 messages and awaits
 * `Atomics.waitAsync` while the ring is full. The fastest one-way path between two threads here.
 */
async function rawRing(n: number): Promise<number> {
  const reader = worker(`self.onmessage = (e) => {
    const [head, ring, total] = [new Int32Array(e.data, 0, 2), new Int32Array(e.data, 8), ${n}];
    let read = 0, sum = 0;
    self.postMessage("ready");
    while (read < total) {
      const written = Atomics.load(head, 0);
      if (written === read) { Atomics.wait(head, 0, read, 1000); continue; }
      for (; read < written; read++) sum += ring[read % ${RING}];
      Atomics.store(head, 1, read);
      Atomics.notify(head, 1);
    }
    self.postMessage(sum);
  };`);
  const shared = new SharedArrayBuffer(8 + 4 * RING);
  const head = new Int32Array(shared, 0, 2);
  const ring = new Int32Array(shared, 8);
  try {
    let answer = new Promise((resolve) => reader.onmessage = resolve);
    reader.postMessage(shared);
    await answer;
    answer = new Promise((resolve) => reader.onmessage = (e) => resolve(e.data));
    return await rate(n, async () => {
      for (let i = 0; i < n; i++) {
        while (i - Atomics.load(head, 1) >= RING) {
          const room = Atomics.waitAsync(head, 1, Atomics.load(head, 1), 1000);
          if (room.async) await room.value;
        }
        ring[i % RING] = 1;
        if ((i & 63) === 63 || i === n - 1) {
          Atomics.store(head, 0, i + 1);
          Atomics.notify(head, 0);
        }
      }
      if (await answer !== n) throw new Error("the raw ring lost messages");
    });
  } finally {
    reader.terminate();
  }
}

/** Asks and one-way sends to a worker actor next to the raw figures. */
export async function benchWorkers(quick: boolean): Promise<Section> {
  const n = quick ? 200 : Number(Deno.env.get("BENCH_N") ?? 5000);
  await using system = await ActorSystem.start();
  const counter = await system.spawn({
    id: "w",
    behaviour: COUNTER,
    observeMessages: false,
    mailbox: { capacity: 1024, overflow: "backpressure" },
  });
  await counter.ask({ type: "get" }); // warm up
  const raw = await rawRoundTrips(n);
  const burst = await rawBurst(n * 20);
  const ring = await rawRing(n * 200);
  const ask = await rate(n, async () => {
    for (let i = 0; i < n; i++) await counter.ask({ type: "add", n: 1 });
  });
  const send = await rate(n * 20, async () => {
    for (let i = 0; i < n * 20; i++) await counter.send({ type: "add", n: 1 });
    await counter.ask({ type: "get" });
  });
  // The same actor in a process of its own: what stopping a spin for sure costs per message.
  const apart = await system.spawn({
    id: "p",
    behaviour: COUNTER,
    isolation: "process",
    observeMessages: false,
    mailbox: { capacity: 1024, overflow: "backpressure" },
  });
  await apart.ask({ type: "get" });
  const processAsk = await rate(n, async () => {
    for (let i = 0; i < n; i++) await apart.ask({ type: "add", n: 1 });
  });
  const processSend = await rate(n * 20, async () => {
    for (let i = 0; i < n * 20; i++) await apart.send({ type: "add", n: 1 });
    await apart.ask({ type: "get" });
  });
  return {
    figures: [
      { name: "worker round trip: raw Worker postMessage", value: raw },
      { name: "worker round trip: troupe ask", value: ask },
      { name: "worker one-way: raw postMessage burst", value: burst },
      { name: "worker one-way: raw SharedArrayBuffer ring", value: ring },
      { name: "worker one-way: troupe send (backpressure)", value: send },
      { name: "process actor round trip: troupe ask", value: processAsk },
      { name: "process actor one-way: troupe send (backpressure)", value: processSend },
    ],
    ratios: [
      ["worker round trip: troupe ask", "worker round trip: raw Worker postMessage", "≥ 0.9"],
      [
        "worker one-way: troupe send (backpressure)",
        "worker one-way: raw postMessage burst",
        "≥ 4.6",
      ],
      [
        "worker one-way: troupe send (backpressure)",
        "worker one-way: raw SharedArrayBuffer ring",
        "",
      ],
      ["process actor round trip: troupe ask", "worker round trip: troupe ask", ""],
      [
        "process actor one-way: troupe send (backpressure)",
        "worker one-way: troupe send (backpressure)",
        "",
      ],
    ],
  };
}
