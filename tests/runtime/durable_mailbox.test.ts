import assert from "node:assert/strict";
import { z } from "zod";
import { ActorSystem, defineActor, type SystemEvent } from "../../runtime/mod.ts";
import { ClusterNode } from "../../runtime/cluster_node.ts";
import { DurableMailboxes } from "../../runtime/durable_mailboxes.ts";
import { natsServer, until } from "../nats_server.ts";

/** Keeps what it is told in `seen` (shared by every incarnation, for the test to read). */
function inbox(seen: number[]) {
  return defineActor({
    messages: z.object({ n: z.number().int().min(0) }),
    receive: (m) => void seen.push(m.n),
  });
}

/** A node hosting the durable mailbox of actor "inbox". */
async function host(url: string, name: string, seen: number[]) {
  const system = await ActorSystem.start();
  const events: SystemEvent[] = [];
  system.events.subscribe((e) => events.push(e));
  await system.spawn({ id: "inbox", behaviour: inbox(seen), isolation: "inline" });
  const node = await ClusterNode.join(system, { servers: [url], node: name, heartbeatMs: 500 });
  const mailboxes = await DurableMailboxes.start(node, { ackWaitMs: 2_000, redeliveries: 2 });
  await mailboxes.host("inbox");
  return { system, node, mailboxes, events };
}

Deno.test("a durable mailbox outlives its node: tells sent while its node is down are stored and handled by the next host, a resend with the same id is kept once, a message that keeps failing is dead-lettered", async () => {
  await using nats = await natsServer();
  const sender = await ActorSystem.start();
  const here = await ClusterNode.join(sender, { servers: [nats.url], node: "a", heartbeatMs: 500 });
  const out = await DurableMailboxes.start(here);
  const seenB: number[] = [];
  const b = await host(nats.url, "b", seenB);
  try {
    await until(() => here.hasMailbox("inbox"), "a learns that inbox has a durable mailbox");
    for (let n = 1; n <= 5; n++) sender.ref("inbox").tell({ n });
    await until(() => seenB.length === 5, "b's inbox got the first five");
    assert.deepEqual(seenB, [1, 2, 3, 4, 5]);

    // b dies (no leave): its connection drops, its system stops.
    await b.mailboxes.stop();
    await b.node.nc.close();
    await b.system.stop();
    const events: SystemEvent[] = [];
    sender.events.subscribe((e) => events.push(e));
    await until(
      () => events.some((e) => e.type === "node" && e.state === "down" && e.actor === "b"),
      "a marks b down",
    );
    // Sent while no node has the actor: stored, not refused.
    for (let n = 6; n <= 8; n++) assert.equal(sender.ref("inbox").tell({ n }), true);
    await out.send("inbox", { n: 9 }, { id: "nine" });
    await out.send("inbox", { n: 9 }, { id: "nine" }); // a resend: stored once
    await out.send("inbox", { n: -1 }); // invalid: fails every delivery

    const seenC: number[] = [];
    const c = await host(nats.url, "c", seenC);
    try {
      await until(() => seenC.length === 4, "c's inbox got what was stored");
      assert.deepEqual(seenC, [6, 7, 8, 9]);
      const letters = () =>
        c.events.flatMap((e) => e.type === "dead_letter" && e.actor === "inbox" ? [e.reason] : []);
      await until(
        () => letters().some((r) => /durable mailbox/.test(r)),
        "the failing message is dead-lettered after its deliveries",
      );
      // Refused at each of its three deliveries, then given up on.
      assert.equal(letters().filter((r) => /^invalid message/.test(r)).length, 3);
      assert.match(letters().at(-1)!, /a durable mailbox's message failed 3 deliveries/);
      assert.deepEqual(seenC, [6, 7, 8, 9], "nothing handled twice");
    } finally {
      await c.mailboxes.stop();
      await c.node.leave();
      await c.system.stop();
    }
  } finally {
    await out.stop();
    await here.leave();
    await sender.stop();
  }
});
