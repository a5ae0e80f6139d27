import assert from "node:assert/strict";
import { z } from "zod";
import { eventType, LedgerError } from "../../ledger/mod.ts";
import { withLedger } from "../ledger_helpers.ts";

const Greeted = eventType("greeted", z.object({ name: z.string(), times: z.number().int() }));
const Waved = eventType("waved", z.object({ hand: z.enum(["left", "right"]) }));

Deno.test("typed events: a payload of the wrong shape is refused with what is wrong, and nothing is written", () =>
  withLedger(async (ledger) => {
    await assert.rejects(
      ledger.record(Greeted, { actor: "a", payload: { name: "x", times: 1.5 } as never }),
      (e: LedgerError) =>
        e instanceof LedgerError && e.code === "invalid_event" &&
        /"greeted" event's payload is invalid/.test(e.message) && /times/.test(e.message),
    );
    assert.equal(ledger.head.seq, 0);
  }));

Deno.test("typed events: read back parsed, only of the asked types, run and actor, in order", () =>
  withLedger(async (ledger) => {
    await ledger.record(Greeted, { runId: "r1", actor: "a", payload: { name: "ada", times: 1 } });
    await ledger.append({ runId: "r1", actor: "a", type: "note", payload: "ignored" });
    await ledger.record(Waved, { runId: "r1", actor: "b", payload: { hand: "left" } });
    await ledger.record(Greeted, { runId: "r2", actor: "a", payload: { name: "bob", times: 2 } });
    const seen: string[] = [];
    for await (const e of ledger.events([Greeted, Waved], { runId: "r1" })) {
      // The union narrows by type: each payload has its own schema's shape.
      seen.push(e.type === "greeted" ? `${e.seq} ${e.payload.name}` : `${e.seq} ${e.payload.hand}`);
    }
    assert.deepEqual(seen, ["1 ada", "3 left"]);
    const byActor = [];
    for await (const e of ledger.events([Greeted], { actor: "a" })) byActor.push(e.payload.times);
    assert.deepEqual(byActor, [1, 2]);
    assert.deepEqual((await ledger.runs()).map((r) => r.runId).sort(), ["r1", "r2"]);
  }));

Deno.test("typed events: a stored payload that no longer matches its schema is named by seq", () =>
  withLedger(async (ledger) => {
    await ledger.append({ actor: "a", type: "greeted", payload: { name: 7 } });
    await assert.rejects(
      (async () => {
        for await (const _ of ledger.events([Greeted])) { /* read */ }
      })(),
      (e: LedgerError) =>
        e.code === "invalid_event" && /ledger event 1 \("greeted"\)/.test(e.message),
    );
  }));
