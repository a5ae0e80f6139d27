import assert from "node:assert/strict";
import { defineActor, type TroupeError } from "../../runtime/mod.ts";
import { eventually, fixture, ISOLATIONS, RECORDER, withSystem } from "../helpers.ts";

for (const isolation of ISOLATIONS) {
  Deno.test(`${isolation}: tell and ask reach the behaviour, which keeps its state`, () =>
    withSystem(async (system) => {
      const counter = await system.spawn({
        id: "counter",
        isolation,
        behaviour: new URL("../../actors/examples/counter.ts", import.meta.url).href,
        args: 40,
      });
      assert.equal(counter.tell({ type: "add", n: 1 }), true);
      counter.tell({ type: "add", n: 1 });
      assert.equal(await counter.ask({ type: "get" }), 42);
    }));

  Deno.test(`${isolation}: sends and tells from one sender arrive in the order they were made`, () =>
    withSystem(async (system) => {
      const rec = await system.spawn({ id: "rec", isolation, behaviour: RECORDER });
      const sent = rec.send({ type: "rec", v: 1 });
      rec.tell({ type: "rec", v: 2 });
      const sentToo = rec.send({ type: "rec", v: 3 });
      rec.tell({ type: "rec", v: 4 });
      await Promise.all([sent, sentToo]);
      assert.deepEqual((await rec.ask<{ seen: number[] }>({ type: "get" })).seen, [1, 2, 3, 4]);
    }));

  Deno.test(`${isolation}: an invalid message goes to dead letters with the reason and the actor keeps running`, () =>
    withSystem(async (system) => {
      const rec = await system.spawn({ id: "rec", isolation, behaviour: RECORDER });
      rec.tell({ type: "nonsense" });
      await assert.rejects(rec.ask({ type: "rec" }), (err: TroupeError) => {
        assert.equal(err.code, "invalid_message");
        assert.match(err.message, /"rec".*invalid message.*v|invalid message/s);
        return true;
      });
      assert.equal(await rec.ask({ type: "rec", v: 1 }), 1);
      const letters = system.deadLetters.filter((d) => d.to === "rec");
      assert.equal(letters.length, 2);
      assert.equal(letters[0].messageType, "nonsense");
      assert.match(letters[0].reason, /Invalid discriminator|invalid/i);
    }));

  Deno.test(`${isolation}: ask times out with an error naming the actor and the message type`, () =>
    withSystem(async (system) => {
      const rec = await system.spawn({ id: "slow", isolation, behaviour: RECORDER });
      const timeouts = system.events.collect((e) => e.type === "ask_timeout");
      await assert.rejects(
        rec.ask({ type: "hold", ms: 300 }, { timeoutMs: 50 }),
        (err: TroupeError) => {
          assert.equal(err.code, "ask_timeout");
          assert.match(err.message, /actor "slow".*"hold".*50 ms/);
          return true;
        },
      );
      assert.equal(timeouts.length, 1);
      timeouts.stop();
    }));

  Deno.test(`${isolation}: critical messages overtake queued ones`, () =>
    withSystem(async (system) => {
      const rec = await system.spawn({ id: "rec", isolation, behaviour: RECORDER });
      rec.tell({ type: "hold", ms: 100 });
      await eventually(
        () => system.registry.cell("rec")!.mailbox.size === 0,
        2000,
        "hold to start",
      );
      rec.tell({ type: "rec", v: "low" }, { priority: "low" });
      rec.tell({ type: "rec", v: "normal" });
      rec.tell({ type: "rec", v: "high" }, { priority: "high" });
      rec.tell({ type: "rec", v: "critical" }, { priority: "critical" });
      const { seen } = await rec.ask<{ seen: string[] }>({ type: "get" }, { priority: "low" });
      assert.deepEqual(seen, ["critical", "high", "normal", "low"]);
    }));

  Deno.test(`${isolation}: request/response and tell between actors`, () =>
    withSystem(async (system) => {
      const a = await system.spawn({ id: "a", isolation, behaviour: RECORDER });
      const b = await system.spawn({ id: "b", isolation, behaviour: RECORDER });
      assert.equal(
        await a.ask({ type: "relay", to: "b", message: { type: "rec", v: "via a" } }),
        1,
      );
      await a.ask({ type: "tell", to: "b", message: { type: "rec", v: "told" } });
      await eventually(
        () => system.registry.cell("b")!.load().processed >= 2 || isolation === "worker",
        2000,
      );
      const { seen } = await b.ask<{ seen: string[] }>({ type: "get" });
      assert.deepEqual(seen, ["via a", "told"]);
      const delivered = system.events.collect((e) => e.type === "delivered" && e.actor === "b");
      await a.ask({ type: "tell", to: "b", message: { type: "rec", v: "x" } });
      await b.ask({ type: "get" });
      assert.equal(delivered.some((e) => e.type === "delivered" && e.from === "a"), true);
      delivered.stop();
    }));

  Deno.test(`${isolation}: pub/sub reaches subscribed actors and listeners`, () =>
    withSystem(async (system) => {
      const sub = await system.spawn({
        id: "sub",
        isolation,
        behaviour: RECORDER,
        subscriptions: ["news"],
      });
      const late = await system.spawn({ id: "late", isolation, behaviour: RECORDER });
      await late.ask({ type: "subscribe", topic: "news" });
      const pub = await system.spawn({ id: "pub", isolation, behaviour: RECORDER });
      const heard: unknown[] = [];
      const unlisten = system.subscribe("news", (m, from) => heard.push([m, from]));
      await pub.ask({ type: "publish", topic: "news", message: { type: "rec", v: "extra!" } });
      assert.equal(system.publish("news", { type: "rec", v: "second" }), 3);
      unlisten();
      for (const ref of [sub, late]) {
        const { seen } = await ref.ask<{ seen: string[] }>({ type: "get" });
        assert.deepEqual(seen, ["extra!", "second"]);
      }
      assert.deepEqual(heard, [[{ type: "rec", v: "extra!" }, "pub"], [
        { type: "rec", v: "second" },
        undefined,
      ]]);
    }));

  Deno.test(`${isolation}: a full mailbox refuses (reject), evicts (drop_oldest) or waits (backpressure), always reported`, () =>
    withSystem(async (system) => {
      for (const overflow of ["reject", "drop_oldest", "backpressure"] as const) {
        const id = `box-${overflow}`;
        const ref = await system.spawn({
          id,
          isolation,
          behaviour: RECORDER,
          mailbox: { capacity: 2, overflow },
        });
        ref.tell({ type: "hold", ms: 100 });
        await eventually(() => system.registry.cell(id)!.mailbox.size === 0, 2000, "hold to start");
        ref.tell({ type: "rec", v: 1 });
        ref.tell({ type: "rec", v: 2 });
        const before = system.deadLetters.length;
        if (overflow === "backpressure") {
          assert.equal(ref.tell({ type: "rec", v: 3 }), false);
          await ref.send({ type: "rec", v: 3 });
        } else {
          assert.equal(ref.tell({ type: "rec", v: 3 }), overflow === "drop_oldest");
        }
        await eventually(() => system.registry.cell(id)!.idle, 2000, "the mailbox to drain");
        const { seen } = await ref.ask<{ seen: number[] }>({ type: "get" });
        const letters = system.deadLetters.slice(before);
        assert.equal(letters.length, 1, `${overflow}: one dead letter`);
        assert.match(letters[0].reason, /full/);
        assert.deepEqual(
          seen,
          overflow === "reject" ? [1, 2] : overflow === "drop_oldest" ? [2, 3] : [1, 2, 3],
        );
      }
    }));

  Deno.test(`${isolation}: an ask that times out waiting for room leaves the room queue at once`, () =>
    withSystem(async (system) => {
      const ref = await system.spawn({
        id: "narrow",
        isolation,
        behaviour: RECORDER,
        mailbox: { capacity: 1, overflow: "backpressure" },
      });
      const mailbox = system.registry.cell("narrow")!.mailbox;
      ref.tell({ type: "hold", ms: 300 });
      await eventually(() => mailbox.size === 0, 2000, "hold to start");
      ref.tell({ type: "rec", v: "queued" });
      await assert.rejects(
        ref.ask({ type: "rec", v: "late" }, { timeoutMs: 30 }),
        (e: TroupeError) => e.code === "ask_timeout",
      );
      assert.equal(mailbox.waiting, 0, "the timed-out ask no longer waits");
      // The next waiter gets the room that opens, not a wake-up taken by the one that left.
      await ref.send({ type: "rec", v: "sent" });
      const { seen } = await ref.ask<{ seen: string[] }>({ type: "get" });
      assert.deepEqual(seen, ["queued", "sent"]);
    }));

  Deno.test(`${isolation}: messages to unknown or stopped actors become dead letters`, () =>
    withSystem(async (system) => {
      const ghost = system.ref("ghost");
      assert.equal(ghost.tell({ type: "rec", v: 1 }), false);
      await assert.rejects(ghost.ask({ type: "get" }), /no actor with id "ghost"/);
      const q = await system.spawn({ id: "quitter", isolation, behaviour: RECORDER }, {
        restart: "temporary",
      });
      assert.equal(await q.ask({ type: "quit" }), "bye");
      await eventually(
        () => !system.registry.has("quitter"),
        2000,
        "quitter to leave the registry",
      );
      assert.equal(q.tell({ type: "rec", v: 1 }), false);
      assert.deepEqual(system.deadLetters.map((d) => d.to), ["ghost", "ghost", "quitter"]);
    }));

  Deno.test(`${isolation}: an actor whose init fails is reported and not registered`, () =>
    withSystem(async (system) => {
      await assert.rejects(
        system.spawn({ id: "broken", isolation, behaviour: fixture("failing_init.ts") }),
        /actor "broken" failed to start: .*missing configuration/,
      );
      await assert.rejects(
        system.spawn({ id: "nodefault", isolation, behaviour: fixture("no_default.ts") }),
        /must export default defineActor/,
      );
      assert.equal(system.registry.has("broken"), false);
      const ok = await system.spawn({ id: "broken", isolation, behaviour: RECORDER });
      assert.equal(await ok.ask({ type: "rec", v: 1 }), 1);
    }));
}

Deno.test("invalid specs are refused with the field that is wrong", () =>
  withSystem(async (system) => {
    await assert.rejects(
      system.spawn({ id: "bad id!", behaviour: RECORDER }),
      (err: TroupeError) => err.code === "invalid_spec" && /id/.test(err.message),
    );
    await assert.rejects(
      // @ts-expect-error: a typo in a permission name is caught at run time too
      system.spawn({ id: "x", behaviour: RECORDER, permissions: { raed: true } }),
      /raed/,
    );
    await system.spawn({ id: "dup", behaviour: RECORDER, isolation: "inline" });
    await assert.rejects(system.spawn({ id: "dup", behaviour: RECORDER }), /already exists/);
  }));

for (const isolation of ISOLATIONS) {
  Deno.test(`${isolation}: messages from one sender arrive in the order sent, asks and tells alike`, () =>
    withSystem(async (system) => {
      const rec = await system.spawn({ id: "rec", isolation, behaviour: RECORDER });
      const first = rec.ask({ type: "rec", v: "ask-1" });
      rec.tell({ type: "rec", v: "tell-2" });
      const third = rec.ask({ type: "rec", v: "ask-3" });
      rec.tell({ type: "rec", v: "tell-4" });
      assert.deepEqual([await first, await third], [1, 3]);
      const { seen } = await rec.ask<{ seen: string[] }>({ type: "get" });
      assert.deepEqual(seen, ["ask-1", "tell-2", "ask-3", "tell-4"]);
    }));
}

Deno.test("inline: copyMessages copies what crosses, as a worker boundary would: a behaviour's mutation stays its own, and an uncopyable message is refused", () =>
  withSystem(async (system) => {
    const mutator = defineActor<{ items: number[] }>({
      receive: (m) => {
        m.items.push(99);
        return m;
      },
    });
    const copying = await system.spawn({
      id: "copying",
      isolation: "inline",
      copyMessages: true,
      behaviour: mutator,
    });
    const sent = { items: [1] };
    const reply = await copying.ask<{ items: number[] }>(sent);
    assert.deepEqual(sent.items, [1], "the sender's object is untouched");
    assert.deepEqual(reply.items, [1, 99]);
    await assert.rejects(copying.ask({ items: [], f: () => 1 }), (err: TroupeError) => {
      assert.equal(err.code, "invalid_message");
      assert.match(err.message, /cannot be copied/);
      return true;
    });
  }));
