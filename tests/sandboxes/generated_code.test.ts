import { coresBusy } from "../cpu.ts";
import assert from "node:assert/strict";
import { Ledger } from "../../ledger/mod.ts";
import { CompileError, runGeneratedCode, type SandboxError } from "../../sandboxes/mod.ts";
import { RECORDER, withSystem } from "../helpers.ts";

Deno.test("generated code that does not compile comes back as diagnostics with file and line", async () => {
  const source = [
    "export function run(): i32 {",
    '  const n: i32 = "not a number";',
    "  return missing(n);",
    "}",
  ].join("\n");
  await assert.rejects(runGeneratedCode(source, { actor: "coder", fn: "run" }), (e) => {
    assert.ok(e instanceof CompileError);
    const errors = e.diagnostics.filter((d) => d.category === "error");
    assert.deepEqual(
      errors.map((d) => [d.file, d.line]).sort(),
      [["generated.ts", 2], ["generated.ts", 3]],
    );
    assert.ok(errors.some((d) => /missing/.test(d.message)));
    return true;
  });
});

Deno.test("generated code runs: an answer, a loop forever, unbounded allocation, an ungranted host call", async () => {
  const source = `
import { input, output, kvSet, Json } from "troupe";
export function double(): i32 { output((I32.parseInt(input()) * 2).toString()); return 0; }
export function forever(): i32 { let n = 0; while (true) { n++; } return n; }
export function hoard(): i32 {
  const all = new Array<ArrayBuffer>();
  while (true) all.push(new ArrayBuffer(1 << 16));
  return 0;
}
export function sneak(): i32 {
  const r = kvSet("stolen", Json.str("secret"));
  output(r.ok ? "stored" : "refused: " + r.error!);
  return 0;
}`;
  const run = (fn: string, extra = {}) =>
    runGeneratedCode(source, { actor: "coder", fn, input: "21", ...extra });
  assert.equal((await run("double")).text(), "42");
  await assert.rejects(
    run("forever", { limits: { timeoutMs: 300 } }),
    (e: SandboxError) => e.kind === "out_of_fuel",
  );
  // With fuel to outlast its time limit, the time limit stops it: its process is killed.
  await assert.rejects(
    run("forever", { limits: { timeoutMs: 300, fuel: 2 ** 52 } }),
    (e: SandboxError) => e.kind === "timeout",
  );
  assert.ok((await coresBusy()) < 0.35, "a core is still busy after the loops were stopped");
  await assert.rejects(
    run("hoard", { limits: { memoryPages: 32 } }),
    (e: SandboxError) => e.kind === "memory_limit",
  );
  const ledger = await Ledger.open(":memory:");
  try {
    assert.match((await run("sneak", { ledger })).text(), /^refused: kv_set\(kv:stolen\) denied/);
    assert.equal((await run("sneak", { ledger, grants: ["kv_set"] })).text(), "stored");
  } finally {
    await ledger.close();
  }
});

Deno.test("generated code can query the ledger and message actors when granted", () =>
  withSystem(async (system) => {
    const rec = await system.spawn({ id: "rec", behaviour: RECORDER });
    const ledger = await Ledger.open(":memory:");
    try {
      await ledger.append({ actor: "tester", type: "note", payload: { n: 1 } });
      await ledger.append({ actor: "tester", type: "note", payload: { n: 2 } });
      await ledger.flush();
      const source = `
import { sql, tell, output, fail, Json } from "troupe";
export function report(): i32 {
  const r = sql("SELECT count(*) AS n FROM events WHERE type = 'note'");
  if (!r.ok) return fail(r.error!);
  const n = r.value!.get("rows")!.at(0)!.getNumber("n");
  const sent = tell("rec", Json.obj().setString("type", "rec").setNumber("v", n));
  if (!sent.ok) return fail(sent.error!);
  output(n.toString());
  return 0;
}`;
      const messaging = {
        tell: (to: string, m: unknown) => void system.ref(to).tell(m),
        ask: (to: string, m: unknown, timeoutMs: number) => system.ref(to).ask(m, { timeoutMs }),
        publish: (topic: string, m: unknown) => void system.publish(topic, m),
      };
      const out = await runGeneratedCode(source, {
        actor: "coder",
        fn: "report",
        ledger,
        messaging,
        grants: ["sql", "emit:actor:rec"],
      });
      assert.equal(out.text(), "2.0");
      let seen: unknown[] = [];
      for (let i = 0; i < 100 && seen.length === 0; i++) {
        seen = (await rec.ask<{ seen: unknown[] }>({ type: "get" })).seen;
      }
      assert.deepEqual(seen, [2]);
      await assert.rejects(
        runGeneratedCode(source, {
          actor: "coder",
          fn: "report",
          ledger,
          messaging,
          grants: ["sql"],
        }),
        /emit\(actor:rec\) denied/,
      );
    } finally {
      await ledger.close();
    }
  }));
