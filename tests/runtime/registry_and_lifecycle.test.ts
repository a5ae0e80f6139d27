import { coresBusy } from "../cpu.ts";
import assert from "node:assert/strict";
import { ActorSystem } from "../../runtime/mod.ts";
import { eventually, ISOLATIONS, RECORDER, withSystem } from "../helpers.ts";

for (const isolation of ISOLATIONS) {
  Deno.test(`${isolation}: actors are found by capability, least loaded first, and dead ones leave`, () =>
    withSystem(async (system) => {
      await system.spawn({
        id: "lint-1",
        isolation,
        behaviour: RECORDER,
        capabilities: ["lint", "review"],
      });
      await system.spawn({ id: "lint-2", isolation, behaviour: RECORDER, capabilities: ["lint"] }, {
        restart: "temporary",
      });
      await system.spawn({ id: "docs", isolation, behaviour: RECORDER, capabilities: ["docs"] });
      assert.deepEqual(system.find("review").map((r) => r.id), ["lint-1"]);
      system.ref("lint-1").tell({ type: "hold", ms: 200 });
      system.ref("lint-1").tell({ type: "rec", v: 1 });
      assert.deepEqual(system.find("lint").map((r) => r.id), ["lint-2", "lint-1"]);
      const mailbox = () => system.registry.list().find((e) => e.id === "lint-1")!.load.mailbox;
      assert.equal(mailbox(), 2); // both queued: a drain starts on the next turn, not inside tell
      await eventually(() => mailbox() === 1, 2000, "hold to be taken");
      system.ref("lint-2").tell({ type: "crash" });
      await eventually(() => !system.registry.has("lint-2"), 3000, "lint-2 to leave");
      assert.deepEqual(system.find("lint").map((r) => r.id), ["lint-1"]);
    }));

  Deno.test(`${isolation}: load reports processed messages and busy time`, () =>
    withSystem(async (system) => {
      const ref = await system.spawn({
        id: "busy",
        isolation,
        behaviour: RECORDER,
        heartbeatMs: 20,
      });
      await ref.ask({ type: "hold", ms: 60 });
      for (let i = 0; i < 3; i++) await ref.ask({ type: "rec", v: i });
      await eventually(
        () => system.registry.cell("busy")!.load().processed === 4,
        3000,
        "heartbeat with load",
      );
      assert.ok(system.registry.cell("busy")!.load().busyMs >= 50);
    }));

  Deno.test(`${isolation}: stop drains mailboxes, runs terminate, then refuses new messages`, async () => {
    const system = await ActorSystem.start();
    const ref = await system.spawn({ id: "drain", isolation, behaviour: RECORDER });
    const events = system.events.collect((e) => e.actor === "drain");
    ref.tell({ type: "hold", ms: 50 });
    for (let i = 0; i < 5; i++) ref.tell({ type: "rec", v: i });
    await system.stop({ deadlineMs: 3000 });
    events.stop();
    const types = events.map((e) => e.type === "log" ? e.text : e.type);
    assert.deepEqual(types, [
      ...Array(6).fill("delivered"),
      "terminating: shutdown",
      "stopped",
      "unregistered",
    ]);
    assert.equal(ref.tell({ type: "rec", v: 9 }), false);
    assert.match(system.deadLetters.at(-1)!.reason, /no actor|stopped/);
  });
}

Deno.test("stop kills a stuck process actor once the deadline passes; the CPU is idle again", async () => {
  const system = await ActorSystem.start();
  const ref = await system.spawn({
    id: "stuck",
    behaviour: RECORDER,
    isolation: "process",
    unresponsiveAfterMs: 60_000,
  });
  ref.tell({ type: "spin" });
  await eventually(() => system.registry.cell("stuck")!.mailbox.size === 0, 2000, "spin to start");
  await system.stop({ deadlineMs: 200 });
  assert.equal(system.state, "stopped");
  assert.equal(system.registry.has("stuck"), false);
  assert.ok((await coresBusy()) < 0.35, "a core is still busy after the actor was stopped");
});

Deno.test("a dead letter keeps a small message whole and only the start of a huge one", () =>
  withSystem((system) => {
    const events = system.events.collect((e) => e.type === "dead_letter");
    assert.equal(system.ref("nobody").tell({ type: "hi", n: 1 }), false);
    assert.equal(system.ref("nobody").tell({ type: "huge", blob: "x".repeat(1 << 20) }), false);
    events.stop();
    const [small, huge] = system.deadLetters.slice(-2);
    assert.deepEqual(small.message, { type: "hi", n: 1 });
    const kept = huge.message as { truncated: boolean; bytes: number; start: string };
    assert.equal(kept.truncated, true);
    assert.ok(kept.bytes > 1 << 20);
    assert.ok(JSON.stringify(kept).length < 1024);
    assert.equal(huge.messageType, "huge");
    assert.deepEqual(events.map((e) => e.type === "dead_letter" && e.message), [
      small.message,
      kept,
    ]);
    return Promise.resolve();
  }));
