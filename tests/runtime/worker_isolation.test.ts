import assert from "node:assert/strict";
import type { SystemEvent, TroupeError } from "../../runtime/mod.ts";
import { eventually, RECORDER, withSystem } from "../helpers.ts";
import { coresBusy } from "../cpu.ts";

Deno.test("a worker actor without read permission cannot read a file; its supervisor sees a crash", () =>
  withSystem(async (system) => {
    const secret = await Deno.makeTempFile({ suffix: ".txt" });
    try {
      await Deno.writeTextFile(secret, "top secret");
      const denied = await system.spawn({ id: "denied", behaviour: RECORDER });
      const allowed = await system.spawn({
        id: "allowed",
        behaviour: RECORDER,
        permissions: { read: [secret] },
      });
      const crashed = system.events.next((e) => e.type === "crashed" && e.actor === "denied");
      const restarted = system.events.next((e) => e.type === "restarted" && e.actor === "denied");
      await assert.rejects(denied.ask({ type: "read", path: secret }), (err: TroupeError) => {
        assert.equal(err.code, "actor_crashed");
        assert.match(err.message, /Requires read access/);
        return true;
      });
      const event = (await crashed) as Extract<SystemEvent, { type: "crashed" }>;
      assert.equal(event.error.name, "NotCapable");
      await restarted;
      // The system keeps serving: the restarted actor and its neighbour both answer.
      assert.equal(await denied.ask({ type: "rec", v: 1 }), 1);
      assert.equal(await allowed.ask({ type: "read", path: secret }), "top secret");
    } finally {
      await Deno.remove(secret);
    }
  }));

Deno.test("an actor in a process stuck in while (true) {} is detected by missed heartbeats, killed and restarted; the CPU is idle again", () =>
  withSystem(async (system) => {
    const ref = await system.spawn({
      id: "spinner",
      behaviour: RECORDER,
      isolation: "process",
      heartbeatMs: 50,
      unresponsiveAfterMs: 400,
    });
    await ref.ask({ type: "rec", v: "before" });
    const events = system.events.collect((e) => e.actor === "spinner" && e.type !== "delivered");
    await assert.rejects(ref.ask({ type: "spin" }, { timeoutMs: 5000 }), (err: TroupeError) => {
      assert.equal(err.code, "actor_crashed");
      assert.match(err.message, /no heartbeat for \d+ ms \(limit 400 ms\)/);
      return true;
    });
    await eventually(() => events.some((e) => e.type === "restarted"), 5000, "restart");
    events.stop();
    assert.deepEqual(events.map((e) => e.type), [
      "unresponsive",
      "crashed",
      "dead_letter",
      "spawned",
      "restarted",
    ]);
    assert.deepEqual((await ref.ask<{ seen: string[] }>({ type: "get" })).seen, []);
    assert.ok((await coresBusy()) < 0.35, "a core is still busy after the actor was stopped");
  }));

Deno.test("an error thrown outside any message (from a timer) crashes the worker actor, not the system", () =>
  withSystem(async (system) => {
    const ref = await system.spawn({ id: "timer", behaviour: RECORDER });
    const crashed = system.events.next((e) => e.type === "crashed" && e.actor === "timer");
    assert.equal(await ref.ask({ type: "crash_later" }), "scheduled");
    const event = (await crashed) as Extract<SystemEvent, { type: "crashed" }>;
    assert.match(event.error.message, /thrown from a timer/);
    await system.events.next((e) => e.type === "restarted" && e.actor === "timer");
    assert.equal(await ref.ask({ type: "rec", v: 1 }), 1);
  }));

Deno.test("a worker posting malformed protocol messages is ignored and logged", () =>
  withSystem(async (system) => {
    const url = "data:text/javascript," + encodeURIComponent(
      `export default { receive(m) { self.postMessage({ t: "forged", x: 1 }); return "ok"; } };`,
    );
    const ref = await system.spawn({ id: "forger", behaviour: url });
    const warned = system.events.next((e) =>
      e.type === "log" && e.actor === "forger" && e.level === "warn"
    );
    assert.equal(await ref.ask({ type: "hi" }), "ok");
    assert.match((await warned as Extract<SystemEvent, { type: "log" }>).text, /malformed message/);
  }));

Deno.test("a healthy worker is not judged unresponsive while the main thread is busy", () =>
  withSystem(async (system) => {
    const ref = await system.spawn({
      id: "idle",
      behaviour: RECORDER,
      heartbeatMs: 50,
      unresponsiveAfterMs: 800,
    });
    await ref.ask({ type: "rec", v: "before" });
    const events = system.events.collect((e) => e.actor === "idle" && e.type !== "delivered");
    // Hold the main thread well past the limit: the worker keeps beating, the host cannot look.
    const until = performance.now() + 2_500;
    while (performance.now() < until) { /* a busy host, e.g. a burst of inline work */ }
    // Give the watchdog several turns to judge what it finds.
    await new Promise((r) => setTimeout(r, 400));
    assert.deepEqual((await ref.ask<{ seen: string[] }>({ type: "get" })).seen, ["before"]);
    events.stop();
    assert.deepEqual(events.map((e) => e.type), []);
  }));

Deno.test("a worker whose heap grows past maxHeapMb is terminated and restarted; the process lives on", () =>
  withSystem(async (system) => {
    const ref = await system.spawn({ id: "hoarder", behaviour: RECORDER, maxHeapMb: 64 });
    const events = system.events.collect((e) =>
      e.actor === "hoarder" && (e.type === "crashed" || e.type === "restarted")
    );
    // 8 MiB kept per message: the limit is passed within a few dozen (bounded: 200).
    for (let i = 0; i < 200 && events.length < 2; i++) {
      await ref.ask({ type: "hoard", mb: 8 }).catch(() => {});
      await new Promise((r) => setTimeout(r, 5));
    }
    await eventually(() => events.length >= 2, 10_000, "a crash and a restart");
    events.stop();
    const [crash, restart] = events;
    assert.ok(crash.type === "crashed");
    assert.equal(crash.error.code, "over_memory");
    assert.match(
      crash.error.message,
      /held \d+ MiB of heap, over its limit of 64 MiB \(maxHeapMb\)/,
    );
    assert.equal(restart.type, "restarted");
    // A fresh incarnation answers.
    assert.equal(await ref.ask({ type: "rec", v: "after" }), 1);
  }));

for (
  const [fault, code, options] of [
    ["spin", "unresponsive", { heartbeatMs: 50, unresponsiveAfterMs: 400, isolation: "process" }],
    ["leak", "over_memory", { maxHeapMb: 96 }],
    ["leak", "over_memory", { maxHeapMb: 96, isolation: "process" }],
  ] as const
) {
  const where = "isolation" in options ? options.isolation : "worker";
  Deno.test(`a fault injected into a ${where} actor (${fault}) is caught (${code}) and the actor restarted`, () =>
    withSystem(async (system) => {
      const ref = await system.spawn({ id: fault, behaviour: RECORDER, ...options });
      assert.equal(await ref.ask({ type: "rec", v: "before" }), 1);
      const crashed = system.events.next((e) => e.type === "crashed" && e.actor === fault);
      assert.equal(system.registry.cell(fault)!.injectFault(fault), true);
      await assert.rejects(ref.ask({ type: "rec", v: "during" }, { timeoutMs: 60_000 }));
      const event = (await crashed) as Extract<SystemEvent, { type: "crashed" }>;
      assert.equal(event.error.code, code);
      await system.events.next((e) => e.type === "restarted" && e.actor === fault);
      assert.equal(await ref.ask({ type: "rec", v: "after" }), 1);
      assert.ok((await coresBusy()) < 0.35, "a core is still busy after the fault was caught");
    }));
}
