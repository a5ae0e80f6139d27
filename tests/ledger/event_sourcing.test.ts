import assert from "node:assert/strict";
import { Ledger, LedgerJournal } from "../../ledger/mod.ts";
import { ActorSystem } from "../../runtime/mod.ts";
import { runThenKill } from "../cli_helpers.ts";
import { fixture, ISOLATIONS, RECORDER } from "../helpers.ts";
import { ENGINES, tempLedgerPath, withLedger } from "../ledger_helpers.ts";

const ACCOUNT = fixture("account.ts");
type Account = { balance: number; deposits: number };

for (const [isolation, engine] of ISOLATIONS.flatMap((i) => ENGINES.map((e) => [i, e] as const))) {
  Deno.test(`${isolation}, ${engine}: a persistent actor's state is rebuilt from the ledger after it crashes`, () =>
    withLedger(async (ledger) => {
      const system = await ActorSystem.start({ journal: new LedgerJournal(ledger) });
      try {
        const account = await system.spawn({ id: "acct", behaviour: ACCOUNT, isolation });
        for (let i = 1; i <= 25; i++) await account.ask({ type: "deposit", amount: i });
        const restarted = system.events.next((e) => e.type === "restarted" && e.actor === "acct");
        await account.ask({ type: "crash" }).catch(() => {});
        await restarted;
        assert.deepEqual(await account.ask<Account>({ type: "balance" }), {
          balance: 325,
          deposits: 25,
        });
        // Snapshots bound recovery: only the events after the last snapshot are replayed.
        const recovery = await new LedgerJournal(ledger).recover("acct");
        assert.deepEqual(recovery.snapshot?.state, { balance: 210, deposits: 20 });
        assert.equal(recovery.events.length, 5);
      } finally {
        await system.stop();
      }
    }, engine));
}

Deno.test("a persistent actor's state survives SIGKILL of the whole process", async () => {
  const path = await tempLedgerPath();
  const acknowledged = await runThenKill(
    new URL("../fixtures/ledger/account_process.ts", import.meta.url),
    [path],
    /balance (\d+)\n/g,
    40,
  );
  const ledger = await Ledger.open(path);
  const system = await ActorSystem.start({ journal: new LedgerJournal(ledger) });
  try {
    const account = await system.spawn({ id: "account", behaviour: ACCOUNT });
    const state = await account.ask<Account>({ type: "balance" });
    assert.ok(
      state.balance >= acknowledged,
      `rebuilt ${state.balance} >= acknowledged ${acknowledged}`,
    );
    assert.equal(state.balance, state.deposits);
  } finally {
    await system.stop();
    await ledger.close();
  }
});

Deno.test("persist without a journal fails that message with a clear error", async () => {
  const system = await ActorSystem.start();
  try {
    const account = await system.spawn({ id: "acct", behaviour: ACCOUNT, isolation: "inline" });
    await assert.rejects(
      account.ask({ type: "deposit", amount: 1 }),
      /has no journal; start it with/,
    );
    const rec = await system.spawn({ id: "r", behaviour: RECORDER, isolation: "inline" });
    assert.equal(await rec.ask({ type: "rec", v: 1 }), 1);
  } finally {
    await system.stop();
  }
});
