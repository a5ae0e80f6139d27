import assert from "node:assert/strict";
import { join } from "node:path";
import { RunFinished, RunSession, TaskSkipped } from "../../actors/mod.ts";
import { TroupeError } from "../../runtime/mod.ts";
import { withLedger } from "../ledger_helpers.ts";

const GO = new URL("../fixtures/repos/go_mod", import.meta.url).pathname;

Deno.test("a run session cancelled while its first task runs finishes that task, skips the rest and says so in the ledger", () =>
  withLedger(async (ledger) => {
    const out = await Deno.makeTempDir({ prefix: "troupe-cancel-" });
    try {
      let cancel = () => {};
      const session = await RunSession.start(ledger, { repo: GO, out: join(out, "r") }, {
        onProgress: (p) => {
          if (p.event.startsWith("scan started")) cancel();
        },
      });
      cancel = () => session.cancel("enough for now");
      const result = await session.run();
      assert.equal(result.ok, false);
      assert.equal(result.cancelled, "enough for now");
      assert.deepEqual([...result.outcome.outputs.keys()], ["scan"]);
      assert.ok(result.outcome.skipped.length > 0);
      for (const s of result.outcome.skipped) {
        assert.match(s.reason, /^(the run was cancelled: enough for now|depends on .*)$/);
      }
      const skipped = [];
      for await (const e of ledger.events([TaskSkipped], { runId: result.runId })) skipped.push(e);
      assert.equal(skipped.length, result.outcome.skipped.length);
      const finished = [];
      for await (const e of ledger.events([RunFinished], { runId: result.runId })) {
        finished.push(e.payload);
      }
      assert.deepEqual(finished, [{
        dead: 0,
        skipped: skipped.length,
        applied: [],
        cancelled: "enough for now",
      }]);
      // What was done is reported all the same.
      await Deno.stat(join(out, "r", "report.md"));
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  }));

Deno.test("a run request is validated before anything is recorded", () =>
  withLedger(async (ledger) => {
    await assert.rejects(
      RunSession.start(ledger, { repo: GO, autonomy: 9, colour: "red" } as never),
      (e: TroupeError) =>
        e instanceof TroupeError && e.code === "invalid_spec" && /autonomy/.test(e.message) &&
        /colour/.test(e.message),
    );
    await assert.rejects(
      RunSession.start(ledger, { repo: join(GO, "nope") }),
      /the repository .*nope is not a directory/,
    );
    await assert.rejects(RunSession.resume(ledger, "run-missing"), /no run "run-missing"/);
    assert.deepEqual(await ledger.runs(), []);
  }));
