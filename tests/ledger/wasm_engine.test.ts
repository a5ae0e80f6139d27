import assert from "node:assert/strict";
import { Ledger } from "../../ledger/mod.ts";
import { cli } from "../cli_helpers.ts";
import { tempLedgerPath } from "../ledger_helpers.ts";

/** What a host that grants no FFI (and no writes, no network) allows. */
const NO_FFI = ["--allow-read", "--allow-env", "--allow-sys"];

async function nativeLedger(): Promise<string> {
  const path = await tempLedgerPath();
  const ledger = await Ledger.open(path);
  const e = (type: string, payload: unknown) =>
    ledger.append({ runId: "r1", actor: "ci", type, payload });
  await e("spawned", { isolation: "worker", incarnation: 1 });
  await e("delivered", { messageType: "plan", priority: "normal", from: "orchestrator" });
  await e("crashed", { error: { name: "TypeError", message: 'x is "undefined"' } });
  await e("note", {
    list: [1, { deep: "é/ü" }],
    n: 2.5,
    flag: true,
    nothing: null,
    "a/b": "slash",
  });
  await ledger.close();
  return path;
}

Deno.test("a host without FFI reads a native ledger through the wasm engine: sql, verify, replay", async () => {
  const path = await nativeLedger();
  const sql = await cli(
    [
      "sql",
      "SELECT sender, receiver, messages FROM message_flow",
      "--ledger",
      path,
      "--engine",
      "wasm",
      "--format",
      "json",
    ],
    { permissions: NO_FFI },
  );
  assert.equal(sql.code, 0, sql.stderr);
  assert.deepEqual(JSON.parse(sql.stdout), [{
    sender: "orchestrator",
    receiver: "ci",
    messages: 1,
  }]);
  const verify = await cli(["verify", "--ledger", path, "--engine", "wasm"], {
    permissions: NO_FFI,
  });
  assert.equal(verify.code, 0, verify.stderr);
  assert.match(verify.stdout, /ok: 4 events, chain intact/);
  const replay = await cli(["replay", "r1", "--ledger", path, "--engine", "wasm"], {
    permissions: NO_FFI,
  });
  assert.equal(replay.code, 0, replay.stderr);
  assert.match(replay.stdout, /ci crashed: x is "undefined"/);
  // The native engine, refused FFI, says what to do instead of failing on the shared library.
  const native = await cli(["verify", "--ledger", path], { permissions: NO_FFI });
  assert.equal(native.code, 1);
  assert.match(native.stderr, /native ledger engine needs FFI.*--allow-ffi, or pass --engine wasm/);
});

Deno.test("the wasm engine's JSON functions answer as DuckDB's JSON extension does", async () => {
  const path = await nativeLedger();
  const query = `SELECT seq,
      payload->>'list' AS list, payload->'list' AS list_json, payload->>'$.list[1].deep' AS deep,
      payload->'$.list[0]' AS first, json_extract_string(payload, '$.n') AS n,
      payload->>'flag' AS flag, payload->>'nothing' AS nothing, payload->>'missing' AS missing,
      payload->>'/a~1b' AS pointer, payload->'error'->>'message' AS message,
      json_extract(payload, '$.error') AS error
    FROM events ORDER BY seq`;
  const answers = [];
  for (const engine of ["native", "wasm"] as const) {
    const ledger = await Ledger.open(path, { engine, readOnly: true });
    try {
      answers.push((await ledger.query(query)).rows);
    } finally {
      await ledger.close();
    }
  }
  // JSON text may differ only in spacing; compare parsed where a column holds JSON.
  const norm = (rows: Record<string, unknown>[]) =>
    rows.map((r) =>
      Object.fromEntries(
        Object.entries(r).map((
          [k, v],
        ) => [k, typeof v === "string" && /^[[{]/.test(v) ? JSON.parse(v) : v]),
      )
    );
  assert.deepEqual(norm(answers[1]), norm(answers[0]));
  assert.equal(answers[1][3].deep, "é/ü");
  assert.equal(answers[1][3].pointer, "slash");
  assert.equal(answers[1][2].message, 'x is "undefined"');
});
