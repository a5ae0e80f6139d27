import assert from "node:assert/strict";
import { Ledger, verifyChain } from "../../ledger/mod.ts";
import { cli, runThenKill } from "../cli_helpers.ts";
import { ENGINES, tamper, tempLedgerPath, withLedger } from "../ledger_helpers.ts";

async function ledgerWith(events: number): Promise<string> {
  const path = await tempLedgerPath();
  const ledger = await Ledger.open(path);
  await Promise.all(
    Array.from(
      { length: events },
      (_, i) => ledger.append({ actor: `a${i % 3}`, type: "note", payload: { i } }),
    ),
  );
  await ledger.close();
  return path;
}

for (const engine of ENGINES) {
  Deno.test(`${engine}: concurrent appends are numbered in order, chained, and read back in order`, () =>
    withLedger(async (ledger) => {
      const acks = await Promise.all(
        Array.from(
          { length: 50 },
          (_, i) => ledger.append({ actor: "a", type: "note", payload: { i } }),
        ),
      );
      assert.deepEqual(acks.map((a) => a.seq), Array.from({ length: 50 }, (_, i) => i + 1));
      assert.deepEqual(ledger.head, acks[49]);
      const rows = [];
      for await (const row of ledger.rows({ pageSize: 7 })) rows.push(row);
      assert.deepEqual(
        rows.map((r) => JSON.parse(r.payload).i),
        Array.from({ length: 50 }, (_, i) => i),
      );
      assert.deepEqual(await verifyChain(ledger), {
        ok: true,
        events: 50,
        headHash: acks[49].hash,
      });
    }, engine));
}

Deno.test("appends are numbered in order and chained; the chain survives reopening", async () => {
  const path = await ledgerWith(20);
  const ledger = await Ledger.open(path);
  try {
    assert.equal(ledger.head.seq, 20);
    const ack = await ledger.append({ actor: "b", type: "note", payload: { z: 1, a: 2 } });
    assert.equal(ack.seq, 21);
    const result = await verifyChain(ledger);
    assert.deepEqual(result, { ok: true, events: 21, headHash: ack.hash });
  } finally {
    await ledger.close();
  }
});

for (
  const [what, sql, seq, reason] of [
    ["an edited row", `UPDATE events SET payload = '{"i":999}' WHERE seq = 7`, 7, /edited/],
    ["a deleted row", "DELETE FROM events WHERE seq = 5", 5, /deleted/],
    [
      "reordered rows",
      "UPDATE events SET seq = CASE seq WHEN 3 THEN 4 ELSE 3 END WHERE seq IN (3, 4)",
      3,
      /link|edited/,
    ],
    ["a changed actor", "UPDATE events SET actor = 'mallory' WHERE seq = 12", 12, /edited/],
  ] as const
) {
  Deno.test(`deno task verify names the first bad seq after ${what}, with either engine`, async () => {
    const path = await ledgerWith(15);
    const before = await cli(["verify", "--ledger", path]);
    assert.equal(before.code, 0, before.stderr);
    assert.match(before.stdout, /ok: 15 events/);
    await tamper(path, sql);
    for (const engine of ENGINES) {
      const after = await cli(["verify", "--ledger", path, "--json", "--engine", engine]);
      assert.equal(after.code, 1, `${engine}: ${after.stderr}`);
      const result = JSON.parse(after.stdout);
      assert.equal(result.ok, false);
      assert.equal(result.seq, seq);
      assert.match(result.reason, reason);
    }
    const human = await cli(["verify", "--ledger", path]);
    assert.match(human.stderr, new RegExp(`FAILED at seq ${seq}`));
  });
}

Deno.test("an acknowledged append survives SIGKILL of the writing process", async () => {
  const path = await tempLedgerPath();
  const lastAck = await runThenKill(
    new URL("../fixtures/ledger/appender.ts", import.meta.url),
    [path],
    /ack (\d+)\n/g,
    3000,
  );
  const ledger = await Ledger.open(path);
  try {
    assert.ok(ledger.head.seq >= lastAck, `stored ${ledger.head.seq} >= acknowledged ${lastAck}`);
    const result = await verifyChain(ledger);
    assert.equal(result.ok, true);
  } finally {
    await ledger.close();
  }
});
