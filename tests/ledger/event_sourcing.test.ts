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

for (const isolation of ISOLATIONS) {
  Deno.test(`${isolation}: consecutive messages' events share commits, and each ask is answered only once its event is committed`, () =>
    withLedger(async (ledger) => {
      let committed = 0;
      let commits = 0;
      const stop = ledger.onCommit((rows) => {
        const events = rows.filter((r) => r.type === "state_event").length;
        if (events > 0) [committed, commits] = [committed + events, commits + 1];
      });
      const system = await ActorSystem.start({ journal: new LedgerJournal(ledger) });
      try {
        const account = await system.spawn({ id: "acct", behaviour: ACCOUNT, isolation });
        const answers = Array.from(
          { length: 300 },
          () =>
            account.ask<Account>({ type: "deposit", amount: 1 }).then((state) => {
              // The reply says this deposit is the n-th: n events are committed by now.
              assert.ok(committed >= state.deposits, `${committed} committed at ${state.deposits}`);
              return state.deposits;
            }),
        );
        const deposits = await Promise.all(answers);
        assert.deepEqual(deposits, Array.from({ length: 300 }, (_, i) => i + 1));
        // Inline, all 300 are handled before the group-commit clock runs: a few commits. A worker
        // sends its events over as it goes, so how many share a commit depends on the machine.
        assert.ok(commits < (isolation === "inline" ? 10 : 300), `300 events, ${commits} commits`);
      } finally {
        stop();
        await system.stop();
      }
    }));
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
