import assert from "node:assert/strict";
import { pluginActor } from "../../plugins/plugin_actor.ts";
import { compileAssemblyScript, parseManifest } from "../../sandboxes/mod.ts";
import { Ledger, recordSystem } from "../../ledger/mod.ts";
import { eventually, RECORDER, withSystem } from "../helpers.ts";
import { watFixture } from "../plugin_helpers.ts";

const source = await Deno.readTextFile(
  new URL("../fixtures/plugins/assembly/agent.ts", import.meta.url),
);
const { wasm } = await compileAssemblyScript({ "agent.ts": source });
const dir = await Deno.makeTempDir({ prefix: "troupe-plugin-" });
await Deno.writeFile(`${dir}/agent.wasm`, wasm);
const manifest = parseManifest({
  name: "agent",
  wasm: `${dir}/agent.wasm`,
  hostFunctions: ["ask"],
  limits: { timeoutMs: 300 },
});
const COUNTER = new URL("../../actors/examples/counter.ts", import.meta.url).href;

Deno.test("a plugin agent replies, sends messages and asks other actors as its grants allow", () =>
  withSystem(async (system) => {
    const rec = await system.spawn({ id: "rec", behaviour: RECORDER });
    await system.spawn({ id: "counter", behaviour: COUNTER, args: 7 });
    const agent = await system.spawn(
      pluginActor({ id: "agent", manifest, grants: ["ask:actor:counter"] }),
    );
    assert.equal(await agent.ask({ op: "forward", to: "rec", text: "hi" }), 1);
    let seen: unknown[] = [];
    for (let i = 0; i < 100 && seen.length === 0; i++) {
      seen = (await rec.ask<{ seen: unknown[] }>({ type: "get" })).seen;
    }
    assert.deepEqual(seen, ["hi"]);
    assert.equal(await agent.ask({ op: "ask", to: "counter" }), 7);
    await assert.rejects(agent.ask({ op: "ask", to: "rec" }), /ask\(actor:rec\) denied/);
  }));

Deno.test("a plugin agent that hangs is stopped and restarted by its supervisor, and serves again", () =>
  withSystem(async (system) => {
    const restarts = system.events.collect((e) => e.type === "restarted" && e.actor === "agent");
    const agent = await system.spawn(pluginActor({ id: "agent", manifest }));
    assert.equal(await agent.ask({ op: "count" }), 1);
    assert.equal(await agent.ask({ op: "count" }), 2);
    await assert.rejects(agent.ask({ op: "spin" }), /used all of its 30000000 units of fuel/);
    await eventually(() => restarts.length === 1, 5000, "a restart");
    // A fresh instance: its count starts again.
    assert.equal(await agent.ask({ op: "count" }), 1);
    // An answer in the wrong shape is an error for the asker, not a hang.
    await assert.rejects(agent.ask({ op: "bad" }), /not \{ reply\?/);
    restarts.stop();
  }));

Deno.test("a plugin agent whose handler returns non-zero fails that message: the asker and the ledger see the code", async () => {
  await Deno.writeFile(`${dir}/exit.wasm`, await watFixture("exit_code.wat"));
  const exit = parseManifest({ name: "exit", wasm: `${dir}/exit.wasm` });
  const ledger = await Ledger.open(":memory:");
  try {
    await withSystem(async (system) => {
      const detach = recordSystem(system, ledger, { runId: "r" });
      const agent = await system.spawn(pluginActor({ id: "exit", manifest: exit }));
      // Its output `{}` is a valid reply; the return code alone makes it a failure.
      await assert.rejects(agent.ask({ any: "thing" }), /handle returned 1/);
      await system.events.next((e) => e.type === "restarted" && e.actor === "exit");
      await detach();
    });
    const rows = await ledger.select(
      "SELECT payload->>'$.error.message' AS message FROM events WHERE type = 'crashed'",
    );
    assert.equal(rows.length, 1);
    assert.match(String(rows[0].message), /plugin "exit": handle returned 1; its output: \{\}/);
  } finally {
    await ledger.close();
  }
});

addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
