/**
 * Savina's workloads (Imam and Sarkar, "Savina — An Actor Benchmark Suite", 2014), each written
 * once against `Kit` so that troupe, the raw limit and the peers run the same code. Sizes are
 * smaller than the paper's, to fit a 2-core machine's run; every figure is units per second.
 */
import type { Kit, Mail } from "./actor_kit.ts";

/** A workload ready to run: its actors are spawned; `go` is the timed part. */
export interface Prepared {
  /** What `go` does, in the workload's unit (messages, or actors for creation). */
  units: number;
  go(): Promise<void>;
}

export interface Workload {
  name: string;
  /** The share of the run's size this workload takes (creating actors costs more than a message). */
  scale?: number;
  /** The mailbox bound the kit needs: the most messages one actor may hold at once. */
  capacity(n: number): number;
  prepare(kit: Kit, n: number): Promise<Prepared>;
}

/** A little arithmetic per message, as Savina's fork-join does, kept from being optimised out. */
let sink = 0;
const work = (m: number) => {
  sink = (sink + Math.sqrt(m + 1)) % 1e9;
};

/** Deterministic pseudo-random numbers (a 32-bit xorshift), the same for every library. */
function xorshift(seed: number): () => number {
  let x = seed | 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

/** Two actors pass a counter back and forth `n` times: latency of one message. */
const pingPong: Workload = {
  name: "ping-pong",
  capacity: () => 16,
  async prepare(kit, n) {
    const done = Promise.withResolvers<void>();
    const refs: { pong?: Mail<number> } = {};
    const ping = await kit.spawn<number>((m) => refs.pong!.send(m));
    refs.pong = await kit.spawn<number>((m) => m >= n ? done.resolve() : ping.send(m + 1));
    return {
      units: 2 * n,
      go: () => {
        ping.send(1);
        return done.promise;
      },
    };
  },
};

/** One sender, one counter, `n` messages in a burst: throughput of one mailbox. */
const counting: Workload = {
  name: "counting",
  capacity: (n) => n + 1,
  async prepare(kit, n) {
    const done = Promise.withResolvers<void>();
    let count = 0;
    const counter = await kit.spawn<number>((m) => {
      if ((count += m) === n) done.resolve();
    });
    return {
      units: n,
      go: () => {
        for (let i = 0; i < n; i++) counter.send(1);
        return done.promise;
      },
    };
  },
};

/** `n` messages spread over 32 actors, each doing a little work: throughput of many mailboxes. */
const forkJoinThroughput: Workload = {
  name: "fork-join throughput",
  capacity: (n) => Math.ceil(n / 32) + 1,
  async prepare(kit, n) {
    const done = Promise.withResolvers<void>();
    let handled = 0;
    const workers: Mail<number>[] = [];
    for (let i = 0; i < 32; i++) {
      workers.push(
        await kit.spawn<number>((m) => {
          work(m);
          if (++handled === n) done.resolve();
        }),
      );
    }
    return {
      units: n,
      go: () => {
        for (let i = 0; i < n; i++) workers[i % 32].send(i);
        return done.promise;
      },
    };
  },
};

/** Creates `n` actors, each given one message to work on: the cost of an actor's life. */
const forkJoinCreation: Workload = {
  name: "fork-join creation",
  scale: 1 / 20,
  capacity: () => 4,
  prepare(kit, n) {
    const done = Promise.withResolvers<void>();
    let handled = 0;
    const handle = (m: number) => {
      work(m);
      if (++handled === n) done.resolve();
    };
    return Promise.resolve({
      units: n,
      go: async () => {
        for (let i = 0; i < n; i++) (await kit.spawn<number>(handle)).send(i);
        await done.promise;
      },
    });
  },
};

/** A token passed `n` times around a ring of 100 actors: scheduling between many actors. */
const threadRing: Workload = {
  name: "thread ring",
  capacity: () => 16,
  async prepare(kit, n) {
    const done = Promise.withResolvers<void>();
    const ring: Mail<number>[] = [];
    for (let i = 0; i < 100; i++) {
      const next = (i + 1) % 100;
      ring.push(await kit.spawn<number>((t) => t === 0 ? done.resolve() : ring[next].send(t - 1)));
    }
    return {
      units: n,
      go: () => {
        ring[0].send(n);
        return done.promise;
      },
    };
  },
};

/**
 * Big: 64 actors, each pinging random others and waiting for the pong before its next ping:
 * many-to-many traffic. A message is the sender's index (ping) or -1 (pong).
 */
const big: Workload = {
  name: "big",
  capacity: () => 128,
  async prepare(kit, n) {
    const K = 64;
    const pings = Math.max(1, Math.floor(n / (2 * K)));
    const done = Promise.withResolvers<void>();
    const actors: Mail<number>[] = [];
    let finished = 0;
    for (let i = 0; i < K; i++) {
      const random = xorshift(i + 1);
      let sent = 0;
      const pingSomeone = () => {
        sent++;
        actors[(i + 1 + (random() % (K - 1))) % K].send(i);
      };
      actors.push(
        await kit.spawn<number>((m) => {
          if (m >= 0) actors[m].send(-1);
          else if (sent < pings) pingSomeone();
          else if (++finished === K) done.resolve();
        }),
      );
    }
    return {
      units: 2 * K * pings,
      go: () => {
        for (let i = 0; i < K; i++) actors[i].send(-1);
        return done.promise;
      },
    };
  },
};

/**
 * Chameneos: 10 creatures ask a mall for a partner; the mall pairs them two by two, `n / 4`
 * meetings in all, four messages each. A request is `creature * 3 + colour`; the mall answers each
 * with its partner's colour.
 */
const chameneos: Workload = {
  name: "chameneos",
  capacity: () => 32,
  async prepare(kit, n) {
    const C = 10;
    const meetings = Math.max(1, Math.floor(n / 4));
    const done = Promise.withResolvers<void>();
    const creatures: Mail<number>[] = [];
    let waiting = -1;
    let met = 0;
    const mall = await kit.spawn<number>((request) => {
      if (met === meetings) return;
      if (waiting < 0) {
        waiting = request;
        return;
      }
      const [a, b] = [Math.floor(waiting / 3), Math.floor(request / 3)];
      creatures[a].send(request % 3);
      creatures[b].send(waiting % 3);
      waiting = -1;
      if (++met === meetings) done.resolve();
    });
    for (let i = 0; i < C; i++) {
      let colour = i % 3;
      creatures.push(
        await kit.spawn<number>((other) => {
          // Two colours meeting become the third; the same colour stays.
          colour = colour === other ? colour : 3 - colour - other;
          mall.send(i * 3 + colour);
        }),
      );
    }
    return {
      units: 4 * meetings,
      go: () => {
        for (let i = 0; i < C; i++) mall.send(i * 3 + (i % 3));
        return done.promise;
      },
    };
  },
};

export const WORKLOADS: Workload[] = [
  pingPong,
  counting,
  forkJoinThroughput,
  forkJoinCreation,
  threadRing,
  big,
  chameneos,
];
