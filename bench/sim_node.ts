/**
 * One node of the cluster simulation (`cluster_sim.ts`): COUNT inline actors with capability
 * `work` that answer what they are asked and count what they are told. Prints `ready` once it
 * has joined; runs until killed or its stdin closes.
 */
import { z } from "zod";
import { ActorSystem, defineActor } from "../runtime/mod.ts";
import { ClusterNode } from "../runtime/cluster_node.ts";

const [url, name, count] = Deno.args;
const worker = defineActor<{ type: "job" | "count"; n?: number }, number>({
  messages: z.object({ type: z.enum(["job", "count"]), n: z.number().optional() }),
  init: () => 0,
  receive: (m, ctx) => {
    if (m.type === "count") return ctx.state;
    ctx.state++;
    return m.n;
  },
});
const system = await ActorSystem.start();
for (let i = 0; i < Number(count); i++) {
  await system.spawn({
    id: `w${i}.${name}`,
    behaviour: worker,
    isolation: "inline",
    capabilities: ["work"],
    mailbox: { capacity: 100_000 },
  });
}
const node = await ClusterNode.join(system, { servers: [url], node: name });
console.log("ready");
// Until the bench closes stdin (or kills the process).
for await (const _ of Deno.stdin.readable) { /* nothing to read */ }
await node.leave();
await system.stop();
Deno.exit(0);
