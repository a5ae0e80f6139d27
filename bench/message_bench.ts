/**
 * The message path: troupe's inline actors next to a bare microtask mailbox (the raw limit in
 * one thread) and the JavaScript peers, xstate v5 and nact, on the same Savina-style workloads in
 * the same run. Each workload's figure is messages per second; ratios are troupe ÷ the other.
 */
import { createActor, fromTransition } from "xstate";
import nact from "nact";
import { ActorSystem, defineActor } from "../runtime/mod.ts";

/** One figure of the run. */
export interface Figure {
  name: string;
  value: number;
  /** Per second unless it says otherwise. */
  unit?: "ms" | "MiB" | "% of a core";
}

async function rate(n: number, run: () => Promise<void>): Promise<number> {
  const start = performance.now();
  await run();
  return n / ((performance.now() - start) / 1000);
}

/** Queues a microtask the cheapest way (a resolved promise's then(); queueMicrotask is an op call). */
const RESOLVED = Promise.resolve();
const microtask = (fn: () => void) => void RESOLVED.then(fn);

/** The raw limit: two queues, each drained on a microtask, sending to each other. */
function bareMailbox(n: number): Promise<void> {
  const done = Promise.withResolvers<void>();
  type Box = { queue: number[]; scheduled: boolean; handle: (m: number) => void };
  const drain = (box: Box) => {
    box.scheduled = false;
    let m;
    while ((m = box.queue.shift()) !== undefined) box.handle(m);
  };
  const send = (box: Box, m: number) => {
    box.queue.push(m);
    if (!box.scheduled) {
      box.scheduled = true;
      microtask(() => drain(box));
    }
  };
  const ping: Box = { queue: [], scheduled: false, handle: (m) => send(pong, m) };
  const pong: Box = {
    queue: [],
    scheduled: false,
    handle: (m) => (m >= n ? done.resolve() : send(ping, m + 1)),
  };
  send(ping, 1);
  return done.promise;
}

/** The raw limit for one-way messages: a queue drained on a microtask, counting. */
function bareCount(n: number): Promise<void> {
  const done = Promise.withResolvers<void>();
  // An array read by index, reset when drained: shift() on a long array costs its length.
  let queue: number[] = [];
  let count = 0;
  let scheduled = false;
  const drain = () => {
    scheduled = false;
    const taken = queue;
    queue = [];
    for (let i = 0; i < taken.length; i++) if ((count += taken[i]) === n) done.resolve();
  };
  for (let i = 0; i < n; i++) {
    queue.push(1);
    if (!scheduled) {
      scheduled = true;
      microtask(drain);
    }
  }
  return done.promise;
}

function xstatePingPong(n: number): Promise<void> {
  const done = Promise.withResolvers<void>();
  // deno-lint-ignore no-explicit-any -- each actor holds the other, made after it
  const refs: { ping?: any; pong?: any } = {};
  const ping = createActor(fromTransition((s: number, e: { type: "ball"; n: number }) => {
    refs.pong.send({ type: "ball", n: e.n });
    return s + 1;
  }, 0));
  const pong = createActor(fromTransition((s: number, e: { type: "ball"; n: number }) => {
    if (e.n >= n) done.resolve();
    else refs.ping.send({ type: "ball", n: e.n + 1 });
    return s + 1;
  }, 0));
  refs.ping = ping.start();
  refs.pong = pong.start();
  ping.send({ type: "ball", n: 1 });
  return done.promise;
}

function xstateCount(n: number): Promise<void> {
  const done = Promise.withResolvers<void>();
  const counter = createActor(fromTransition((s: number, e: { type: "add" }) => {
    if (e.type === "add" && s + 1 === n) done.resolve();
    return s + 1;
  }, 0)).start();
  for (let i = 0; i < n; i++) counter.send({ type: "add" });
  return done.promise;
}

function nactPingPong(n: number): Promise<void> {
  const done = Promise.withResolvers<void>();
  const system = nact.start();
  // deno-lint-ignore no-explicit-any -- nact's references are untyped here
  const refs: { ping?: any } = {};
  const pong = nact.spawnStateless(system, (m: number) => {
    if (m >= n) done.resolve();
    else nact.dispatch(refs.ping, m + 1);
  }, "pong");
  refs.ping = nact.spawnStateless(system, (m: number) => nact.dispatch(pong, m), "ping");
  nact.dispatch(refs.ping, 1);
  return done.promise.finally(() => nact.stop(system));
}

function nactCount(n: number): Promise<void> {
  const done = Promise.withResolvers<void>();
  const system = nact.start();
  const counter = nact.spawn(
    system,
    (s: number, _m: number) => {
      if (s + 1 === n) done.resolve();
      return s + 1;
    },
    "counter",
    { initialState: 0 },
  );
  for (let i = 0; i < n; i++) nact.dispatch(counter, 1);
  return done.promise.finally(() => nact.stop(system));
}

async function troupePingPong(system: ActorSystem, n: number): Promise<void> {
  const done = Promise.withResolvers<void>();
  await system.spawn({
    id: "ping",
    isolation: "inline",
    observeMessages: false,
    behaviour: defineActor<number>({ receive: (m, ctx) => ctx.tell("pong", m) }),
  });
  await system.spawn({
    id: "pong",
    isolation: "inline",
    observeMessages: false,
    behaviour: defineActor<number>({
      receive: (m, ctx) => (m >= n ? done.resolve() : ctx.tell("ping", m + 1)),
    }),
  });
  system.ref("ping").tell(1);
  await done.promise;
  await system.remove("ping");
  await system.remove("pong");
}

async function troupeCount(system: ActorSystem, n: number): Promise<void> {
  const done = Promise.withResolvers<void>();
  const ref = await system.spawn({
    id: "counter",
    isolation: "inline",
    observeMessages: false,
    mailbox: { capacity: n + 1, overflow: "reject" },
    behaviour: defineActor<number, number>({
      init: () => 0,
      receive: (_m, ctx) => {
        if (++ctx.state === n) done.resolve();
      },
    }),
  });
  for (let i = 0; i < n; i++) ref.tell(1);
  await done.promise;
  await system.remove("counter");
}

async function troupeAsks(system: ActorSystem, n: number): Promise<void> {
  const ref = await system.spawn({
    id: "echo",
    isolation: "inline",
    observeMessages: false,
    behaviour: defineActor<number>({ receive: (m) => m }),
  });
  for (let i = 0; i < n; i++) await ref.ask(i);
  await system.remove("echo");
}

/** Ping-pong, counting and asks, for troupe, the raw limit and the peers; best of `rounds`. */
export async function benchMessages(
  quick: boolean,
): Promise<{ figures: Figure[]; ratios: [string, string, string][] }> {
  const n = quick ? 1_000 : 200_000;
  const rounds = quick ? 1 : 3;
  const system = await ActorSystem.start();
  const figures: Figure[] = [];
  const best = async (name: string, run: () => Promise<void>) => {
    let top = 0;
    for (let r = 0; r < rounds; r++) top = Math.max(top, await rate(n, run));
    figures.push({ name, value: top });
  };
  try {
    await best("ping-pong: bare microtask mailbox", () => bareMailbox(n));
    await best("ping-pong: xstate v5", () => xstatePingPong(n));
    await best("ping-pong: nact", () => nactPingPong(n));
    await best("ping-pong: troupe inline", () => troupePingPong(system, n));
    await best("counting: bare microtask mailbox", () => bareCount(n));
    await best("counting: xstate v5", () => xstateCount(n));
    await best("counting: nact", () => nactCount(n));
    await best("counting: troupe inline", () => troupeCount(system, n));
    await best("ask from outside: troupe inline", () => troupeAsks(system, n));
  } finally {
    await system.stop();
  }
  return {
    figures,
    ratios: [
      ["ping-pong: troupe inline", "ping-pong: xstate v5", "≥ 0.5"],
      ["ping-pong: troupe inline", "ping-pong: nact", "≥ 3"],
      ["ping-pong: troupe inline", "ping-pong: bare microtask mailbox", ""],
      ["counting: troupe inline", "counting: bare microtask mailbox", "≥ 0.5"],
      ["counting: troupe inline", "counting: xstate v5", ""],
      ["counting: troupe inline", "counting: nact", ""],
    ],
  };
}
