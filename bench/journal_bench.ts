/**
 * Event-sourced actors: deposits to one actor whose every event goes to a real ledger file, each
 * ask answered only once its event is committed, next to the ledger's own appends in the same
 * run; and how long a restarted actor takes to answer again (recovery from snapshot and events).
 */
import { Ledger, LedgerJournal } from "../ledger/mod.ts";
import { ActorSystem, defineActor } from "../runtime/mod.ts";
import type { Section } from "./figure.ts";

/** An event-sourced balance: each deposit is a stored event, a snapshot every 100. */
const ACCOUNT = defineActor<{ type: "deposit"; amount: number } | { type: "balance" }, {
  balance: number;
  deposits: number;
}>({
  init: () => ({ balance: 0, deposits: 0 }),
  persistence: {
    apply: (s, e) => ({
      balance: s.balance + (e as { amount: number }).amount,
      deposits: s.deposits + 1,
    }),
  },
  async receive(msg, ctx) {
    if (msg.type === "deposit") await ctx.persist({ amount: msg.amount });
    return ctx.state;
  },
});

/** Deposits in flight at once: callers that do not wait for each other, as a busy actor sees. */
const WINDOW = 1000;

export async function benchJournal(quick: boolean): Promise<Section> {
  const n = quick ? 500 : 20_000;
  const dir = await Deno.makeTempDir({ prefix: "troupe-bench-journal-" });
  const path = `${dir}/ledger.duckdb`;
  try {
    const ledger = await Ledger.open(path);
    let persisted: number;
    let appends: number;
    {
      await using system = await ActorSystem.start({ journal: new LedgerJournal(ledger) });
      const account = await system.spawn({
        id: "account",
        behaviour: ACCOUNT,
        isolation: "inline",
        observeMessages: false,
        mailbox: { capacity: WINDOW * 2, overflow: "backpressure" },
      });
      const start = performance.now();
      for (let sent = 0; sent < n; sent += WINDOW) {
        const asks = [];
        for (let i = 0; i < Math.min(WINDOW, n - sent); i++) {
          asks.push(account.ask({ type: "deposit", amount: 1 }, { timeoutMs: 60_000 }));
        }
        await Promise.all(asks);
      }
      persisted = n / ((performance.now() - start) / 1000);
      // The raw limit for the same durability: the ledger's appends, as many at once.
      const t = performance.now();
      for (let sent = 0; sent < n; sent += WINDOW) {
        await Promise.all(
          Array.from(
            { length: Math.min(WINDOW, n - sent) },
            () => ledger.append({ actor: "bench", type: "delivered", payload: { amount: 1 } }),
          ),
        );
      }
      appends = n / ((performance.now() - t) / 1000);
    }
    // A new system: the actor rebuilds its state from the latest snapshot and the events after.
    const t = performance.now();
    await using system = await ActorSystem.start({ journal: new LedgerJournal(ledger) });
    const account = await system.spawn({ id: "account", behaviour: ACCOUNT, isolation: "inline" });
    const state = await account.ask<{ deposits: number }>({ type: "balance" });
    const recoveryMs = performance.now() - t;
    if (state.deposits !== n) throw new Error(`recovered ${state.deposits} of ${n} deposits`);
    await system.stop();
    await ledger.close();
    return {
      figures: [
        { name: "event-sourced: ledger appends, as many at once", value: appends },
        {
          name: "event-sourced: persisted deposits, one actor",
          value: persisted,
          target: "≥ 10,000",
        },
        { name: "event-sourced: recovery to first answer", value: recoveryMs, unit: "ms" },
      ],
      ratios: [[
        "event-sourced: persisted deposits, one actor",
        "event-sourced: ledger appends, as many at once",
        "",
      ]],
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
