import assert from "node:assert/strict";
import { z } from "zod";
import { ControlServer } from "../../control/mod.ts";
import { ActorSystem, defineActor } from "../../runtime/mod.ts";
import { ClusterNode } from "../../runtime/cluster_node.ts";
import { serverFolders } from "../control_helpers.ts";
import { natsServer } from "../nats_server.ts";

const echo = defineActor({
  messages: z.object({ type: z.literal("echo"), text: z.string() }),
  receive: (m) => m.text,
});

interface NodeView {
  node: string;
  here: boolean;
  actors: { id: string; capabilities: string[] }[];
}

Deno.test("serve --cluster: GET /nodes lists every live node with its actors, and the server's refs reach them; without a cluster it lists the server alone", async () => {
  await using nats = await natsServer();
  const dir = await Deno.makeTempDir({ prefix: "troupe-serve-cluster-" });
  const other = await ActorSystem.start();
  try {
    await other.spawn({
      id: "echo-b",
      behaviour: echo,
      isolation: "inline",
      capabilities: ["echo"],
    });
    const b = await ClusterNode.join(other, { servers: [nats.url], node: "b", heartbeatMs: 500 });
    await using server = await ControlServer.start({ ...serverFolders(dir), cluster: [nats.url] });
    const get = async (path: string) => {
      const res = await fetch(`${server.url}${path}`, {
        headers: { authorization: `Bearer ${server.token}` },
      });
      assert.equal(res.status, 200, path);
      return await res.json();
    };
    let nodes: NodeView[] = [];
    for (let i = 0; i < 600 && !nodes.some((n) => n.node === "b"); i++) {
      nodes = await get("/nodes");
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(nodes[0].here, true);
    const remote = nodes.find((n) => n.node === "b");
    assert.ok(remote, JSON.stringify(nodes));
    assert.deepEqual(remote.actors.map((a) => `${a.id}:${a.capabilities}`), ["echo-b:echo"]);
    // The server's own actor system reaches it, as it would reach its own actors.
    assert.equal(await server.system.ref("echo-b").ask({ type: "echo", text: "hi" }), "hi");
    await b.leave();
  } finally {
    await other.stop();
  }
  {
    await using alone = await ControlServer.start(serverFolders(`${dir}/alone`));
    const res = await fetch(`${alone.url}/nodes`, {
      headers: { authorization: `Bearer ${alone.token}` },
    });
    const nodes = await res.json() as NodeView[];
    assert.deepEqual(nodes.map((n) => `${n.node}:${n.here}`), ["this server:true"]);
  }
  await Deno.remove(dir, { recursive: true });
});
