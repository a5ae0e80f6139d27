import assert from "node:assert/strict";
import {
  type ActorSystem,
  FakeClock,
  type SupervisorSpecInput,
  type SystemEvent,
} from "../../runtime/mod.ts";
import { eventually, ISOLATIONS, RECORDER, withSystem } from "../helpers.ts";

const fast = { minMs: 1, maxMs: 5, randomFactor: 0 };

function team(
  strategy: "one_for_one" | "one_for_all" | "rest_for_one",
  isolation: "worker" | "inline",
): SupervisorSpecInput {
  return {
    id: "team",
    strategy,
    backoff: fast,
    children: ["a", "b", "c"].map((id) => ({ actor: { id, isolation, behaviour: RECORDER } })),
  };
}

async function seenBy(system: ActorSystem, id: string): Promise<unknown[]> {
  return (await system.ref(id).ask<{ seen: unknown[] }>({ type: "get" })).seen;
}

/** Seeds a, b, c with state, crashes b, and returns which children were restarted. */
async function crashMiddle(system: ActorSystem, expectedRestarts: number): Promise<string[]> {
  for (const id of ["a", "b", "c"]) await system.ref(id).ask({ type: "rec", v: id });
  const restarted = system.events.collect((e) => e.type === "restarted");
  system.ref("b").tell({ type: "crash", reason: "b broke" });
  await eventually(
    () => restarted.length >= expectedRestarts,
    5000,
    `${expectedRestarts} restarts`,
  );
  restarted.stop();
  return restarted.map((e) => e.actor);
}

for (const isolation of ISOLATIONS) {
  Deno.test(`${isolation}: one_for_one restarts only the crashed child`, () =>
    withSystem(async (system) => {
      await system.supervise(team("one_for_one", isolation));
      const crashes = system.events.collect((e) => e.type === "crashed");
      assert.deepEqual(await crashMiddle(system, 1), ["b"]);
      assert.equal(crashes[0].type === "crashed" && crashes[0].error.message, "b broke");
      assert.deepEqual(await seenBy(system, "a"), ["a"]);
      assert.deepEqual(await seenBy(system, "b"), []);
      assert.deepEqual(await seenBy(system, "c"), ["c"]);
      crashes.stop();
    }));

  Deno.test(`${isolation}: one_for_all restarts siblings when a child crashes`, () =>
    withSystem(async (system) => {
      await system.supervise(team("one_for_all", isolation));
      assert.deepEqual(await crashMiddle(system, 3), ["a", "b", "c"]);
      for (const id of ["a", "b", "c"]) assert.deepEqual(await seenBy(system, id), []);
    }));

  Deno.test(`${isolation}: rest_for_one restarts the crashed child and those started after it`, () =>
    withSystem(async (system) => {
      await system.supervise(team("rest_for_one", isolation));
      assert.deepEqual(await crashMiddle(system, 2), ["b", "c"]);
      assert.deepEqual(await seenBy(system, "a"), ["a"]);
      assert.deepEqual(await seenBy(system, "c"), []);
    }));

  Deno.test(`${isolation}: messages sent while an actor restarts wait in its mailbox`, () =>
    withSystem(async (system) => {
      const ref = await system.spawn({ id: "r", isolation, behaviour: RECORDER });
      ref.tell({ type: "crash" });
      ref.tell({ type: "rec", v: 1 });
      ref.tell({ type: "rec", v: 2 });
      assert.deepEqual(await seenBy(system, "r"), [1, 2]);
      const letters = system.deadLetters.filter((d) => d.to === "r");
      assert.equal(letters.length, 1, "the crashing message itself is a dead letter");
      assert.match(letters[0].reason, /crashed while handling it: boom/);
    }));

  Deno.test(`${isolation}: restart types: permanent always, transient after a crash, temporary never`, () =>
    withSystem(async (system) => {
      for (const restart of ["permanent", "transient", "temporary"] as const) {
        for (const how of ["quit", "crash"] as const) {
          const id = `${restart}-${how}`;
          await system.spawn({ id, isolation, behaviour: RECORDER }, { restart });
          const next = system.events.next((e) =>
            e.actor === id && (e.type === "restarted" || e.type === "unregistered")
          );
          system.ref(id).tell({ type: how });
          const outcome = (await next).type;
          const expected = restart === "permanent" || (restart === "transient" && how === "crash")
            ? "restarted"
            : "unregistered";
          assert.equal(outcome, expected, `${restart} child after ${how}`);
        }
      }
    }));
}

Deno.test("backoff delays restarts, growing with repeated crashes", () => {
  const clock = new FakeClock();
  return withSystem(async (system) => {
    await system.supervise({
      id: "sup",
      intensity: 10,
      backoff: { minMs: 40, maxMs: 1000, randomFactor: 0 },
      children: [{ actor: { id: "flaky", behaviour: RECORDER, isolation: "inline" } }],
    });
    const restarts = system.events.collect((e) => e.type === "restarted");
    for (const [i, delay] of [[1, 40], [2, 80], [3, 160]]) {
      const armed = clock.pending;
      system.ref("flaky").tell({ type: "crash" });
      await eventually(() => clock.pending > armed, 5000, `crash ${i} to arm its backoff`);
      await clock.tick(delay - 1);
      assert.equal(restarts.length, i - 1, `restart ${i} waits the whole ${delay} ms`);
      await clock.tick(1);
      await eventually(() => restarts.length === i, 5000, `restart ${i}`);
    }
    assert.deepEqual(restarts.map((e) => e.type === "restarted" && e.delayMs), [40, 80, 160]);
    restarts.stop();
  }, { clock });
});

Deno.test("a removed nested supervisor's id, and its children's, can be used again", () =>
  withSystem(async (system) => {
    const tree = (v: string): SupervisorSpecInput => ({
      id: "crew",
      children: [{ actor: { id: "crew-1", behaviour: RECORDER, isolation: "inline", args: v } }],
    });
    await system.supervise(tree("first"));
    assert.equal(await system.remove("crew"), true);
    assert.equal(system.registry.has("crew-1"), false);
    await system.supervise(tree("second"));
    assert.equal(await system.ref("crew-1").ask({ type: "rec", v: 1 }), 1);
    assert.equal(await system.remove("crew"), true);
    assert.equal(await system.remove("crew"), false, "removed once");
  }));

Deno.test("exceeding restart intensity escalates to the parent supervisor, which restarts the subtree", () =>
  withSystem(async (system) => {
    await system.supervise({
      id: "outer",
      intensity: 5,
      backoff: fast,
      children: [{
        supervisor: {
          id: "inner",
          intensity: 1,
          periodMs: 60_000,
          backoff: fast,
          children: [{ actor: { id: "x", behaviour: RECORDER } }],
        },
      }],
    });
    const events = system.events.collect((e) =>
      ["escalated", "restarted", "crashed"].includes(e.type)
    );
    system.ref("x").tell({ type: "crash" });
    await eventually(
      () => events.some((e) => e.type === "restarted" && e.actor === "x"),
      5000,
      "first restart",
    );
    await system.ref("x").ask({ type: "rec", v: "before" });
    system.ref("x").tell({ type: "crash" });
    await eventually(
      () => events.some((e) => e.type === "restarted" && e.actor === "inner"),
      5000,
      "inner restart",
    );
    events.stop();
    const story = events.map((e) => `${e.type}:${e.actor}`);
    assert.deepEqual(story, [
      "crashed:x",
      "restarted:x",
      "crashed:x",
      "escalated:inner",
      "restarted:inner",
    ]);
    const escalation = events.find((e) => e.type === "escalated") as Extract<
      SystemEvent,
      { type: "escalated" }
    >;
    assert.match(escalation.reason, /more than 1 restarts within 60000 ms/);
    // The subtree came back: x runs again with fresh state.
    assert.deepEqual(await seenBy(system, "x"), []);
  }));

Deno.test("the root supervisor escalates when its own intensity is exceeded", () =>
  withSystem(async (system) => {
    await system.spawn({ id: "y", behaviour: RECORDER, isolation: "inline" });
    const escalated = system.events.next((e) => e.type === "escalated");
    system.ref("y").tell({ type: "crash" });
    assert.equal((await escalated).actor, "root");
  }, { root: { intensity: 0 } }));

for (const isolation of ISOLATIONS) {
  Deno.test(`${isolation}: a crash amid a stream of messages loses none of the others: each is handled once, in order, by the next incarnation`, () =>
    withSystem(async (system) => {
      const seen: number[] = [];
      system.subscribe("seen", (m) => seen.push(m as number));
      await system.spawn({
        id: "stream",
        isolation,
        behaviour: RECORDER,
        mailbox: { capacity: 2000, overflow: "reject" },
      }, { restart: "permanent" });
      const ref = system.ref("stream");
      // A worker gets these in batches: the crash falls in the middle of one.
      for (let i = 0; i < 600; i++) {
        if (i === 300) ref.tell({ type: "crash", reason: "in the middle" });
        ref.tell({ type: "publish", topic: "seen", message: i });
      }
      await eventually(() => seen.length >= 600, 20_000, "every message to be handled");
      assert.deepEqual(seen, Array.from({ length: 600 }, (_, i) => i));
      const letters = system.deadLetters.filter((d) => d.to === "stream");
      assert.deepEqual(letters.map((d) => (d.message as { type: string }).type), ["crash"]);
    }));

  Deno.test(`${isolation}: messages after one that stops the actor are refused, each a dead letter`, () =>
    withSystem(async (system) => {
      const seen: number[] = [];
      system.subscribe("seen", (m) => seen.push(m as number));
      await system.spawn({ id: "quitter", isolation, behaviour: RECORDER }, {
        restart: "temporary",
      });
      const ref = system.ref("quitter");
      for (let i = 0; i < 10; i++) ref.tell({ type: "publish", topic: "seen", message: i });
      ref.tell({ type: "quit" });
      for (let i = 10; i < 20; i++) ref.tell({ type: "publish", topic: "seen", message: i });
      await eventually(() => !system.registry.has("quitter"), 10_000, "the actor to stop");
      assert.deepEqual(seen, Array.from({ length: 10 }, (_, i) => i));
      const refused = system.deadLetters.filter((d) => d.to === "quitter");
      assert.deepEqual(
        refused.map((d) => (d.message as { message: number }).message),
        Array.from({ length: 10 }, (_, i) => i + 10),
      );
    }));
}
