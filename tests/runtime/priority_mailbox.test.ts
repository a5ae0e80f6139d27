import assert from "node:assert/strict";
import { PriorityMailbox } from "../../runtime/priority_mailbox.ts";

Deno.test("a critical message overtakes everything already queued", () => {
  const box = new PriorityMailbox<string>(10, "reject");
  box.offer("low", "low");
  box.offer("n1", "normal");
  box.offer("high", "high");
  box.offer("n2", "normal");
  box.offer("crit", "critical");
  const order = [box.take(), box.take(), box.take(), box.take(), box.take(), box.take()];
  assert.deepEqual(order, ["crit", "high", "n1", "n2", "low", undefined]);
});

Deno.test("reject refuses a message to a full mailbox and says why", () => {
  const box = new PriorityMailbox<number>(2, "reject");
  assert.equal(box.offer(1).accepted, true);
  assert.equal(box.offer(2).accepted, true);
  const third = box.offer(3, "critical");
  assert.equal(third.accepted, false);
  assert.match((third as { reason: string }).reason, /capacity 2/);
  assert.equal(box.size, 2);
});

Deno.test("drop_oldest evicts the oldest message of the lowest lane, never a higher one for a lower", () => {
  const box = new PriorityMailbox<string>(3, "drop_oldest");
  box.offer("h1", "high");
  box.offer("l1", "low");
  box.offer("l2", "low");
  const offer = box.offer("n1", "normal");
  assert.deepEqual(offer, { accepted: true, dropped: "l1" });
  assert.deepEqual([box.take(), box.take(), box.take()], ["h1", "n1", "l2"]);
  // Full of higher-priority messages: a low one is refused rather than evicting them.
  const full = new PriorityMailbox<string>(2, "drop_oldest");
  full.offer("h", "high");
  full.offer("n", "normal");
  assert.equal(full.offer("l", "low").accepted, false);
  assert.equal(full.size, 2);
});

Deno.test("backpressure: room() resolves once a message is taken", async () => {
  const box = new PriorityMailbox<number>(1, "backpressure");
  box.offer(1);
  assert.equal(box.offer(2).accepted, false);
  let roomy = false;
  const waiting = box.room().then(() => roomy = true);
  await Promise.resolve();
  assert.equal(roomy, false);
  box.take();
  await waiting;
  assert.equal(roomy, true);
  assert.equal(box.offer(2).accepted, true);
});

Deno.test("a mailbox needs a positive capacity", () => {
  assert.throws(() => new PriorityMailbox(0, "reject"), /positive integer/);
});
