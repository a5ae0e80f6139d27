/**
 * The least each actor library offers, so that every Savina workload is written once and runs
 * unchanged on troupe's inline actors, a bare microtask mailbox (the raw limit), xstate v5 and
 * nact. A kit holds one system's actors; `stop` ends them all.
 */
import { createActor, fromTransition } from "xstate";
import nact from "nact";
import { ActorSystem, defineActor } from "../runtime/mod.ts";

/** Where to send an actor messages. */
export interface Mail<M> {
  send(message: M): void;
}

/** Starts actors of one library; `handle` is the behaviour, given each message in order. */
export interface Kit {
  spawn<M>(handle: (message: M) => void): Promise<Mail<M>>;
  stop(): Promise<void>;
}

/** Makes a fresh kit; `capacity` bounds each mailbox where the library has bounds. */
export type KitMaker = (capacity: number) => Promise<Kit>;

/** Queues a microtask the cheapest way (a resolved promise's then(); queueMicrotask is an op call). */
const RESOLVED = Promise.resolve();

/** The raw limit: a queue per actor, swapped out and drained on a microtask; nothing else. */
const bare: KitMaker = () =>
  Promise.resolve({
    spawn<M>(handle: (message: M) => void) {
      let queue: M[] = [];
      let scheduled = false;
      const drain = () => {
        scheduled = false;
        // Taken whole: shift() on a long array costs its length.
        const taken = queue;
        queue = [];
        for (let i = 0; i < taken.length; i++) handle(taken[i]);
      };
      return Promise.resolve({
        send(message: M) {
          queue.push(message);
          if (!scheduled) {
            scheduled = true;
            RESOLVED.then(drain);
          }
        },
      });
    },
    stop: () => Promise.resolve(),
  });

/** xstate v5: a transition actor per behaviour; events must be objects with a type. */
const xstate: KitMaker = () => {
  // deno-lint-ignore no-explicit-any -- xstate's actor type depends on the logic's generics
  const actors: any[] = [];
  return Promise.resolve({
    spawn<M>(handle: (message: M) => void) {
      const actor = createActor(fromTransition((s: number, e: { type: "m"; m: M }) => {
        handle(e.m);
        return s;
      }, 0)).start();
      actors.push(actor);
      return Promise.resolve({ send: (m: M) => actor.send({ type: "m", m }) });
    },
    stop() {
      for (const a of actors) a.stop();
      return Promise.resolve();
    },
  });
};

/** nact: a stateless actor per behaviour, in one nact system. */
const nactKit: KitMaker = () => {
  const system = nact.start();
  let next = 0;
  return Promise.resolve({
    spawn<M>(handle: (message: M) => void) {
      const ref = nact.spawnStateless(system, (m: M) => handle(m), `a${next++}`);
      return Promise.resolve({ send: (m: M) => nact.dispatch(ref, m) });
    },
    stop() {
      nact.stop(system);
      return Promise.resolve();
    },
  });
};

/** troupe: an inline actor per behaviour, in an actor system of its own, messages not observed. */
const troupe: KitMaker = async (capacity) => {
  const system = await ActorSystem.start();
  let next = 0;
  return {
    async spawn<M>(handle: (message: M) => void) {
      const ref = await system.spawn({
        id: `a${next++}`,
        isolation: "inline",
        observeMessages: false,
        mailbox: { capacity, overflow: "reject" },
        behaviour: defineActor<M>({ receive: (m) => handle(m) }),
      });
      return { send: (m: M) => ref.tell(m) };
    },
    stop: () => system.stop(),
  };
};

/** Each library's kit, by the name its figures carry. */
export const KITS: [string, KitMaker][] = [
  ["bare microtask mailbox", bare],
  ["xstate v5", xstate],
  ["nact", nactKit],
  ["troupe inline", troupe],
];
