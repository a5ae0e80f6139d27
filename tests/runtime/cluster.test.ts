import assert from "node:assert/strict";
import { z } from "zod";
import { ActorSystem, defineActor, type SystemEvent, TroupeError } from "../../runtime/mod.ts";
import { ClusterNode } from "../../runtime/cluster_node.ts";
import { join } from "node:path";
import { cli } from "../cli_helpers.ts";
import { natsServer, projectLedger, startNode, until } from "../nats_server.ts";

const echo = defineActor({
  messages: z.object({ type: z.literal("echo"), value: z.unknown() }),
  receive: (m, ctx) => ({ value: m.value, by: ctx.self }),
});

const sink = defineActor<{ type: "put" | "get"; value?: unknown }, unknown[]>({
  init: () => [],
  receive: (m, ctx) => {
    if (m.type === "put") ctx.state.push(m.value);
    else return ctx.state;
  },
});

Deno.test("two nodes on a real nats-server: asks and tells cross nodes, discovery by capability spans them, topics reach both, and a node that leaves is down at once", async () => {
  await using nats = await natsServer();
  const a = await ActorSystem.start();
  const b = await ActorSystem.start();
  const events: SystemEvent[] = [];
  a.events.subscribe((e) => events.push(e));
  try {
    await b.spawn({ id: "echo-b", behaviour: echo, isolation: "inline", capabilities: ["echo"] });
    await b.spawn({ id: "sink-b", behaviour: sink, isolation: "inline" });
    await a.spawn({ id: "echo-a", behaviour: echo, isolation: "inline", capabilities: ["echo"] });
    const nodeA = await ClusterNode.join(a, { servers: [nats.url], node: "a", heartbeatMs: 500 });
    const nodeB = await ClusterNode.join(b, { servers: [nats.url], node: "b", heartbeatMs: 500 });
    await until(() => a.find("echo").length === 2, "a finds both echo actors");
    assert.deepEqual(a.find("echo").map((r) => r.id).sort(), ["echo-a", "echo-b"]);
    assert.deepEqual(nodeA.nodes().map((n) => n.node).sort(), ["a", "b"]);

    // An ask across nodes: the value is copied as between workers (a Map and a Date survive).
    const value = { when: new Date(0), tags: new Map([["k", 1]]) };
    const reply = await a.ref("echo-b").ask<{ value: typeof value; by: string }>({
      type: "echo",
      value,
    });
    assert.equal(reply.by, "echo-b");
    assert.deepEqual(reply.value, value);

    // Tells keep their order; the remote actor's state shows them.
    for (let i = 0; i < 20; i++) {
      assert.equal(a.ref("sink-b").tell({ type: "put", value: i }), true);
    }
    await until(() => b.registry.cell("sink-b")!.load().processed >= 20, "sink-b got the tells");
    assert.deepEqual(await a.ref("sink-b").ask({ type: "get" }), [...Array(20).keys()]);

    // An invalid message is refused on its node, and the asker hears why.
    await assert.rejects(
      a.ref("echo-b").ask({ type: "nope" }),
      (err: Error & { code?: string }) =>
        err.code === "invalid_message" && /invalid message/.test(err.message),
    );

    // A publish on one node reaches subscribers on the other (and its own).
    const heard: unknown[] = [];
    a.subscribe("news", (m) => heard.push(m));
    b.subscribe("news", (m) => heard.push(m));
    b.publish("news", { headline: "hello" });
    await until(() => heard.length === 2, "both nodes heard the publish");

    // A node that leaves is down at once for the others, and its actors leave discovery.
    await nodeB.leave();
    await until(
      () => events.some((e) => e.type === "node" && e.state === "down" && e.actor === "b"),
      "a saw b leave",
      10_000,
    );
    assert.deepEqual(a.find("echo").map((r) => r.id), ["echo-a"]);
    await assert.rejects(
      a.ref("echo-b").ask({ type: "echo", value: 1 }),
      (err: Error) => err instanceof TroupeError && err.code === "actor_not_found",
    );
    await nodeA.leave();
  } finally {
    await a.stop();
    await b.stop();
  }
});

Deno.test("deno task node: actors on other processes are found by capability and asked; a node killed with SIGKILL is marked down and its work goes to the node left", async () => {
  await using nats = await natsServer();
  const dir = await Deno.makeTempDir({ prefix: "troupe-nodes-" });
  const system = await ActorSystem.start();
  const events: SystemEvent[] = [];
  system.events.subscribe((e) => events.push(e));
  const n1 = await startNode(nats.url, "n1", dir, "demo");
  const n2 = await startNode(nats.url, "n2", dir, "demo");
  let cluster: ClusterNode | undefined;
  try {
    assert.deepEqual(n1.joined.actors, ["ponger-1.n1"]);
    cluster = await ClusterNode.join(system, {
      servers: [nats.url],
      node: "here",
      heartbeatMs: 500,
    });
    await until(() => system.find("pong").length === 2, "both nodes' pongers are found");
    for (const ref of system.find("pong")) {
      assert.equal(await ref.ask({ type: "ping", n: 7 }, { timeoutMs: 30_000 }), "pong 7");
    }

    n1.child.kill("SIGKILL");
    await n1.child.status;
    // Noticed by missed heartbeats (n1 had no chance to leave); its actor leaves discovery.
    await until(
      () => events.some((e) => e.type === "node" && e.state === "down" && e.actor === "n1"),
      "n1 is marked down",
    );
    const down = events.find((e) => e.type === "node" && e.state === "down")!;
    assert.match((down as { reason: string }).reason, /no heartbeat/);
    const left = system.find("pong");
    assert.deepEqual(left.map((r) => r.id), ["ponger-1.n2"], JSON.stringify(events.slice(-5)));
    // Work asked by capability now goes to the node left.
    assert.equal(await left[0].ask({ type: "ping", n: 8 }, { timeoutMs: 30_000 }), "pong 8");

    // n2 stops (and ships what it recorded last); the cluster's ledger has both nodes' events,
    // each node's chain verified, and one SQL query sees them.
    n2.child.kill("SIGTERM");
    assert.equal((await n2.child.status).code, 0);
    const into = join(dir, "cluster.duckdb");
    const projected = await projectLedger(nats.url, into);
    assert.equal(projected.code, 0, projected.output);
    const chains = projected.nodes;
    assert.deepEqual(chains.map((c) => `${c.node}:${c.problem ?? "verified"}`).sort(), [
      "n1:verified",
      "n2:verified",
    ]);
    const sql = await cli([
      "sql",
      "SELECT node, count(*) FILTER (type = 'spawned') AS spawned, count(*) FILTER (type = 'stopped') AS stopped FROM events GROUP BY node ORDER BY node",
      "--ledger",
      into,
      "--format",
      "json",
    ]);
    assert.equal(sql.code, 0, sql.stderr);
    // n1 was killed: it spawned its ponger and never stopped it; n2 stopped its own.
    assert.deepEqual(
      JSON.parse(sql.stdout).map((r: Record<string, unknown>) =>
        `${r.node}:${r.spawned}:${r.stopped}`
      ),
      ["n1:1:0", "n2:1:1"],
    );
  } finally {
    await cluster?.leave();
    await system.stop();
    for (const n of [n1, n2]) {
      try {
        n.child.kill("SIGTERM");
      } catch { /* already gone */ }
      await n.child.status;
    }
    await Deno.remove(dir, { recursive: true });
  }
});
