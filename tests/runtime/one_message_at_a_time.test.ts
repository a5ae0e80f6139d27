import assert from "node:assert/strict";
import { defineActor } from "../../runtime/mod.ts";
import { withSystem } from "../helpers.ts";

/**
 * The actor guarantee: an actor handles one message at a time, to completion. An inline actor
 * that tells itself or another inline actor must never see its `receive` entered again before
 * the current call returns, however long the exchange goes on.
 */

interface Loop {
  n: number;
  depth: number;
  maxDepth: number;
}

const ROUNDS = 1_000_000;

function looping(peer: (self: string) => string) {
  return defineActor<{ n: number }, Loop>({
    init: () => ({ n: 0, depth: 0, maxDepth: 0 }),
    receive(msg, ctx) {
      const s = ctx.state;
      s.depth++;
      s.maxDepth = Math.max(s.maxDepth, s.depth);
      s.n++;
      if (msg.n < ROUNDS) ctx.tell(peer(ctx.self), { n: msg.n + 1 });
      else ctx.publish("done", { actor: ctx.self, handled: s.n, maxDepth: s.maxDepth });
      s.depth--;
    },
  });
}

function finished(
  system: Parameters<Parameters<typeof withSystem>[0]>[0],
): Promise<{ actor: string; handled: number; maxDepth: number }> {
  return new Promise((resolve) =>
    system.subscribe(
      "done",
      (m) => resolve(m as { actor: string; handled: number; maxDepth: number }),
    )
  );
}

Deno.test("inline: 1,000,000 self-tells finish, and receive is never re-entered", () =>
  withSystem(async (system) => {
    const done = finished(system);
    const self = await system.spawn({
      id: "self",
      isolation: "inline",
      behaviour: looping((id) => id),
    });
    self.tell({ n: 1 });
    const result = await done;
    assert.deepEqual(result, { actor: "self", handled: ROUNDS, maxDepth: 1 });
    assert.equal(system.deadLetters.length, 0);
  }));

Deno.test("inline: a 1,000,000-round ping-pong between two actors finishes without nesting", () =>
  withSystem(async (system) => {
    const done = finished(system);
    const other = (id: string) => (id === "ping" ? "pong" : "ping");
    await system.spawn({ id: "ping", isolation: "inline", behaviour: looping(other) });
    const pong = await system.spawn({ id: "pong", isolation: "inline", behaviour: looping(other) });
    pong.tell({ n: 1 });
    const result = await done;
    // Message n goes to pong when n is odd; the last one (n = ROUNDS, even) lands on ping.
    assert.deepEqual(result, { actor: "ping", handled: ROUNDS / 2, maxDepth: 1 });
    assert.equal(system.deadLetters.length, 0);
  }));
