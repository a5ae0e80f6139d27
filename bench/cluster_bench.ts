/**
 * Messages between two nodes of a cluster over a real nats-server on this machine: tells/s and
 * ask round trips/s from one actor system to an actor of another, next to NATS's own rate
 * measured in the same run (publish/subscribe and request/reply between two connections, with
 * payloads of the same size). Goal: at least half of raw NATS.
 */
import { serialize } from "node:v8";
import { connect } from "@nats-io/transport-node";
import { ActorSystem, defineActor } from "../runtime/mod.ts";
import { ClusterNode } from "../runtime/cluster_node.ts";
import { natsServer } from "../tests/nats_server.ts";
import { rate, type Section } from "./figure.ts";

const sink = defineActor<{ n: number }, number>({ init: () => 0, receive: (m) => m.n });

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; !check(); i++) {
    if (i > 600_000) throw new Error("the messages did not all arrive");
    await new Promise((r) => setTimeout(r, i < 100 ? 0 : 1));
  }
}

export async function benchCluster(quick = false): Promise<Section> {
  const tells = quick ? 200 : 100_000;
  const asks = quick ? 20 : 5_000;
  await using nats = await natsServer();
  const payload = serialize({ k: "tell", to: "sink", m: { n: 1 }, p: "normal" });

  // Raw NATS: one connection publishes, the other counts; then request/reply, one at a time.
  const pub = await connect({ servers: nats.url });
  const sub = await connect({ servers: nats.url });
  let got = 0;
  sub.subscribe("raw.tell", {
    callback: () => {
      got++;
    },
  });
  sub.subscribe("raw.ask", {
    callback: (_e, m) => {
      m.respond(payload);
    },
  });
  await sub.flush();
  const rawTells = await rate(tells, async () => {
    for (let i = 0; i < tells; i++) pub.publish("raw.tell", payload);
    await until(() => got === tells);
  });
  const rawAsks = await rate(asks, async () => {
    for (let i = 0; i < asks; i++) await pub.request("raw.ask", payload, { timeout: 10_000 });
  });
  await pub.close();
  await sub.close();

  // troupe: system a tells and asks an actor of system b, each a node of the cluster.
  const a = await ActorSystem.start();
  const b = await ActorSystem.start();
  try {
    // Room for the whole burst, as the local message benchmarks give theirs.
    await b.spawn({
      id: "sink",
      behaviour: sink,
      isolation: "inline",
      mailbox: { capacity: tells + asks },
    });
    const nodeA = await ClusterNode.join(a, { servers: [nats.url], node: "a" });
    const nodeB = await ClusterNode.join(b, { servers: [nats.url], node: "b" });
    await until(() => nodeA.has("sink"));
    const ref = a.ref("sink");
    const cell = b.registry.cell("sink")!;
    const before = cell.load().processed;
    const troupeTells = await rate(tells, async () => {
      for (let i = 0; i < tells; i++) ref.tell({ n: i });
      await until(() => cell.load().processed - before >= tells);
    });
    const troupeAsks = await rate(asks, async () => {
      for (let i = 0; i < asks; i++) await ref.ask({ n: i }, { timeoutMs: 10_000 });
    });
    await nodeA.leave();
    await nodeB.leave();
    const tell = "cross-node tells (system a to an actor of system b)";
    const ask = "cross-node ask round trips, one at a time";
    const rawTell = "raw NATS publish to a subscriber on another connection";
    const rawAsk = "raw NATS request/reply, one at a time";
    return {
      figures: [
        { name: tell, value: troupeTells },
        { name: rawTell, value: rawTells },
        { name: ask, value: troupeAsks },
        { name: rawAsk, value: rawAsks },
      ],
      ratios: [[tell, rawTell, "≥ 0.5"], [ask, rawAsk, "≥ 0.5"]],
    };
  } finally {
    await a.stop();
    await b.stop();
  }
}
