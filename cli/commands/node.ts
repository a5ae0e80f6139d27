import { join } from "node:path";
import { Ledger, recordSystem } from "../../ledger/mod.ts";
import { LedgerShipper } from "../../ledger/ledger_shipper.ts";
import { repoOpsTeam } from "../../actors/mod.ts";
import { ActorSystem, type SystemEvent } from "../../runtime/mod.ts";
import { ClusterNode } from "../../runtime/cluster_node.ts";
import { serveTeams } from "../../runtime/remote_agents.ts";
import { defineCommand, JSON_FLAG } from "../command.ts";

const usage =
  `Usage: deno task node --cluster nats://HOST:PORT[,…] [--name ID] [--offer repo-ops|demo] [--count N]
                      [--ledger PATH] [--json]

Starts a troupe node: an actor system that joins the cluster whose NATS servers (with
JetStream: nats-server -js) are at --cluster, and offers its actors to every node of it.
Any node finds them by capability and asks or tells them as if they were its own. Runs
until stopped (Ctrl-C or SIGTERM), then leaves the cluster; a node that dies is noticed by
the others within three heartbeats. Its events go to its own ledger file and from there to
the cluster's ledger stream (see deno task ledger project), from where it stopped if it was
offline.

Options:
  --cluster URLS  the NATS servers, comma-separated (required)
  --name ID       this node's id (default: host name, process id, a random tail)
  --offer SET     what the node offers: repo-ops (the default: leases the repo-ops team's
                  agents to runs started with deno task run --cluster, each made for its
                  run with that run's repository and scratch folder, which this machine
                  must see at the same paths), or demo ("ponger" actors, capability pong)
  --count N       how many of each (1-50, default 1)
  --ledger PATH   this node's ledger (default .troupe/nodes/ID.duckdb)
  --json          print what happens as JSON lines
  -h, --help      show this help`;

const OFFERS: Record<string, { name: string; module: string; capabilities: string[] }[]> = {
  "repo-ops": [], // agents made per run, when one leases them (serveTeams)
  demo: [{
    name: "ponger",
    module: new URL("../../actors/demo/ponger.ts", import.meta.url).href,
    capabilities: ["pong"],
  }],
};

export const node = defineCommand({
  name: "node",
  summary: "a node of a cluster over NATS JetStream, offering actors to every node",
  usage,
  flags: {
    cluster: { type: "string", default: "" },
    name: { type: "string", default: "" },
    offer: { type: "string", default: "repo-ops" },
    count: { type: "string", default: "1" },
    ledger: { type: "string", default: "" },
    json: JSON_FLAG,
  },
  run: (flags, _positionals, fail) => {
    const servers = flags.cluster.split(",").map((s) => s.trim()).filter(Boolean);
    if (servers.length === 0) {
      return Promise.resolve(fail("--cluster is required: the NATS servers, nats://HOST:PORT"));
    }
    const offer = OFFERS[flags.offer];
    if (!offer) {
      return Promise.resolve(
        fail(`--offer must be one of ${Object.keys(OFFERS).join(", ")}, not "${flags.offer}"`),
      );
    }
    const count = Number(flags.count);
    if (!Number.isInteger(count) || count < 1 || count > 50) {
      return Promise.resolve(
        fail(`--count must be a whole number from 1 to 50, not "${flags.count}"`),
      );
    }
    return runNode(servers, flags.name || undefined, offer, count, flags.ledger, flags.json);
  },
});

async function runNode(
  servers: string[],
  name: string | undefined,
  offer: (typeof OFFERS)[string],
  count: number,
  ledgerPath: string,
  json: boolean,
): Promise<number> {
  const system = await ActorSystem.start();
  const say = (line: string, data: Record<string, unknown>) =>
    console.log(json ? JSON.stringify(data) : line);
  const stopped = Promise.withResolvers<void>();
  const stop = () => stopped.resolve();
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  let cluster: ClusterNode | undefined;
  let ledger: Ledger | undefined;
  let shipper: LedgerShipper | undefined;
  try {
    cluster = await ClusterNode.join(system, { servers, ...(name ? { node: name } : {}) });
    const id = cluster.id;
    if (offer === OFFERS["repo-ops"]) serveTeams(cluster, { "repo-ops": repoOpsTeam });
    const path = ledgerPath || join(".troupe", "nodes", `${id}.duckdb`);
    await Deno.mkdir(join(path, ".."), { recursive: true });
    ledger = await Ledger.open(path);
    recordSystem(system, ledger, { runId: `node-${id}` });
    shipper = await LedgerShipper.start(ledger, cluster.nc, { cluster: cluster.cluster, node: id });
    for (const o of offer) {
      for (let i = 1; i <= count; i++) {
        await system.spawn({
          id: `${o.name}-${i}.${id}`,
          behaviour: o.module,
          isolation: "process",
          capabilities: o.capabilities,
        });
      }
    }
    system.events.subscribe((e: SystemEvent) => {
      if (e.type !== "node") return;
      say(`node ${e.actor} is ${e.state}: ${e.reason}`, { event: "node", ...e });
    });
    const actors = system.registry.list().map((e) => e.id);
    const offering = actors.length ? actors.join(", ") : "the repo-ops team's agents, per run";
    say(`node ${id} joined ${servers.join(",")} offering ${offering}`, {
      event: "joined",
      node: id,
      servers,
      actors,
    });
    await stopped.promise;
    return 0;
  } finally {
    Deno.removeSignalListener("SIGINT", stop);
    Deno.removeSignalListener("SIGTERM", stop);
    await system.stop();
    // What it recorded last goes to the stream before it leaves (or on its next start).
    await shipper?.caughtUp(5_000);
    await shipper?.stop();
    await cluster?.leave();
    await ledger?.close();
  }
}
