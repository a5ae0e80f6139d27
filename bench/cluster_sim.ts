/**
 * The cluster at a larger scale on one machine: node processes of inline actors (10 × 100 =
 * 1,000 agents), driven from one more node. Tells/s spread over every agent, ask round trips/s
 * and their p99 with 100 in flight, and, after one node is killed with SIGKILL, how long until
 * the driver's node marks it down and until the work it held is answered by another node.
 */
import { ActorSystem, type SystemEvent } from "../runtime/mod.ts";
import { ClusterNode } from "../runtime/cluster_node.ts";
import { natsServer } from "../tests/nats_server.ts";
import type { Section } from "./figure.ts";

const SIM_NODE = new URL("./sim_node.ts", import.meta.url).pathname;

async function until(check: () => boolean, what: string, ms = 120_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`the simulation gave up waiting: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export async function benchClusterSim(quick = false): Promise<Section> {
  const nodes = quick ? 2 : 10;
  const perNode = quick ? 5 : 100;
  const tells = quick ? 200 : 100_000;
  const asks = quick ? 100 : 20_000;
  const inFlight = quick ? 10 : 100;
  await using nats = await natsServer();
  const children = [];
  for (let i = 0; i < nodes; i++) {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--quiet", SIM_NODE, nats.url, `sim${i}`, String(perNode)],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    children.push({ child, ready: reader.read() });
  }
  await Promise.all(children.map((c) => c.ready));
  const system = await ActorSystem.start();
  const events: SystemEvent[] = [];
  system.events.subscribe((e) => events.push(e));
  const node = await ClusterNode.join(system, {
    servers: [nats.url],
    node: "driver",
    heartbeatMs: 250,
  });
  try {
    const agents = nodes * perNode;
    await until(() => system.find("work").length === agents, `all ${agents} agents found`);
    const refs = system.find("work");

    // Tells spread over every agent; counted by each agent, summed with one ask each.
    const t0 = performance.now();
    for (let i = 0; i < tells; i++) refs[i % refs.length].tell({ type: "job", n: i });
    let counted = 0;
    while (counted < tells) {
      const counts = await Promise.all(
        refs.map((r) => r.ask<number>({ type: "count" }, { timeoutMs: 60_000 })),
      );
      counted = counts.reduce((a, b) => a + b, 0);
    }
    const tellRate = tells / ((performance.now() - t0) / 1000);

    // Asks to agents across the nodes, `inFlight` at a time; each one's round trip timed.
    const times: number[] = [];
    let next = 0;
    const a0 = performance.now();
    await Promise.all(Array.from({ length: inFlight }, async () => {
      while (next < asks) {
        const i = next++;
        const s = performance.now();
        await refs[i % refs.length].ask({ type: "job", n: i }, { timeoutMs: 60_000 });
        times.push(performance.now() - s);
      }
    }));
    const askRate = asks / ((performance.now() - a0) / 1000);
    times.sort((a, b) => a - b);
    const p99 = times[Math.floor(times.length * 0.99)];

    // One node dies while work goes to it; the work it held is asked again elsewhere.
    const victim = children[0].child;
    const victimAgents = refs.filter((r) => r.id.endsWith(".sim0"));
    const k0 = performance.now();
    victim.kill("SIGKILL");
    const lost = victimAgents.map((r) =>
      r.ask({ type: "job", n: 1 }, { timeoutMs: 60_000 }).then(() => "answered", () => "lost")
    );
    await until(
      () => events.some((e) => e.type === "node" && e.state === "down" && e.actor === "sim0"),
      "the killed node is marked down",
    );
    const noticeMs = performance.now() - k0;
    const outcomes = await Promise.all(lost);
    const alive = system.find("work");
    if (alive.some((r) => r.id.endsWith(".sim0"))) throw new Error("the dead node's agents stayed");
    await Promise.all(
      outcomes.map((o, i) =>
        o === "lost" ? alive[i % alive.length].ask({ type: "job", n: i }, { timeoutMs: 60_000 }) : 0
      ),
    );
    const recoverMs = performance.now() - k0;
    const size = `${nodes} nodes × ${perNode} agents`;
    return {
      figures: [
        { name: `simulation (${size}): tells spread over every agent`, value: tellRate },
        { name: `simulation (${size}): asks, ${inFlight} in flight`, value: askRate },
        { name: `simulation (${size}): ask p99`, value: p99, unit: "ms" },
        { name: `simulation: a node killed is marked down after`, value: noticeMs, unit: "ms" },
        {
          name: `simulation: its ${victimAgents.length} agents' work answered elsewhere after`,
          value: recoverMs,
          unit: "ms",
        },
      ],
      ratios: [],
    };
  } finally {
    await node.leave();
    await system.stop();
    for (const { child } of children) {
      try {
        await child.stdin.close();
      } catch { /* killed */ }
      await child.status;
    }
  }
}
