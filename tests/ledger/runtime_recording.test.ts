import assert from "node:assert/strict";
import { recordSystem, replayRun, verifyChain } from "../../ledger/mod.ts";
import { ActorSystem } from "../../runtime/mod.ts";
import { cli } from "../cli_helpers.ts";
import { RECORDER } from "../helpers.ts";
import { ENGINES, withLedger } from "../ledger_helpers.ts";

for (const engine of ENGINES) {
  Deno.test(`${engine}: every runtime event of a run is written to the ledger and replayed in order`, () =>
    withLedger(async (ledger, path) => {
      const system = await ActorSystem.start();
      const detach = recordSystem(system, ledger, { runId: "run-1" });
      const a = await system.spawn({ id: "a", behaviour: RECORDER, isolation: "inline" });
      await a.ask({ type: "rec", v: 1 });
      await a.ask({ type: "crash" }).catch(() => {});
      await system.events.next((e) => e.type === "restarted");
      await a.ask({ type: "hold", ms: 200 }, { timeoutMs: 20 }).catch(() => {});
      system.ref("nobody").tell({ type: "rec", v: 2 });
      await system.stop();
      await detach();
      const types = (await ledger.query(
        "SELECT DISTINCT type FROM events WHERE run_id = 'run-1' ORDER BY type",
      ))
        .rows
        .map((r) => r.type);
      for (
        const t of [
          "ask_timeout",
          "crashed",
          "dead_letter",
          "delivered",
          "registered",
          "restarted",
          "spawned",
          "stopped",
        ]
      ) {
        assert.ok(types.includes(t), `${t} recorded (got ${types.join(", ")})`);
      }
      const story = await replayRun(ledger, "run-1");
      assert.deepEqual(story.map((l) => l.seq), [...story.map((l) => l.seq)].sort((x, y) => x - y));
      assert.ok(story.some((l) => l.text === "a crashed: boom"));
      assert.ok(story.some((l) => l.text === "outside -> a: rec"));
      assert.equal((await verifyChain(ledger)).ok, true);
      await ledger.close();
      if (engine === "wasm") return; // in memory: gone with the close
      // The file is read back by either engine.
      for (const reader of ENGINES) {
        const replay = await cli(["replay", "run-1", "--ledger", path, "--engine", reader]);
        assert.equal(replay.code, 0, replay.stderr);
        assert.match(replay.stdout, /root restarted a \(restart 1\)/);
        const unknown = await cli(["replay", "run-404", "--ledger", path, "--engine", reader]);
        assert.equal(unknown.code, 1);
        assert.match(unknown.stderr, /no events for run "run-404".*recent runs: run-1/);
      }
    }, engine));

  Deno.test(`${engine}: per-message events can be skipped for busy systems`, () =>
    withLedger(async (ledger) => {
      const system = await ActorSystem.start();
      const detach = recordSystem(system, ledger, { runId: "quiet", messages: "none" });
      const a = await system.spawn({ id: "a", behaviour: RECORDER, isolation: "inline" });
      for (let i = 0; i < 20; i++) await a.ask({ type: "rec", v: i });
      await system.stop();
      await detach();
      const counts = await ledger.query(
        "SELECT count(*) FILTER (WHERE type = 'delivered') AS delivered, count(*) AS total FROM events",
      );
      assert.equal(counts.rows[0].delivered, 0);
      assert.ok(Number(counts.rows[0].total) >= 4);
    }, engine));
}
