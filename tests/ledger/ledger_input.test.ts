import assert from "node:assert/strict";
import { DuckDBInstance } from "@duckdb/node-api";
import { Ledger, type LedgerError, verifyChain } from "../../ledger/mod.ts";
import { cli } from "../cli_helpers.ts";
import { ENGINES, tempLedgerPath, withLedger } from "../ledger_helpers.ts";

Deno.test("a foreign file passed as the ledger is refused and never overwritten", async () => {
  const path = await tempLedgerPath();
  await Deno.writeTextFile(path, "name,email\nada,ada@example.com\n");
  for (const engine of ENGINES) {
    await assert.rejects(
      Ledger.open(path, { engine, readOnly: engine === "wasm" }),
      (err: LedgerError) => {
        assert.equal(err.code, "not_a_ledger");
        assert.match(err.message, /not a DuckDB ledger file.*will not overwrite/);
        return true;
      },
    );
    const viaCli = await cli(["sql", "SELECT 1", "--ledger", path, "--engine", engine]);
    assert.equal(viaCli.code, 1);
    assert.match(viaCli.stderr, /not a DuckDB ledger file/);
  }
  assert.equal(await Deno.readTextFile(path), "name,email\nada,ada@example.com\n");
});

Deno.test("a DuckDB database that is not a ledger is refused and left as it was", async () => {
  const path = await tempLedgerPath();
  const instance = await DuckDBInstance.create(path);
  const conn = await instance.connect();
  await conn.run("CREATE TABLE customers (id INTEGER)");
  conn.closeSync();
  instance.closeSync();
  for (const engine of ENGINES) {
    await assert.rejects(
      Ledger.open(path, { engine, readOnly: engine === "wasm" }),
      /a DuckDB database but not a troupe ledger \(it has tables customers\)/,
    );
  }
  const check = await DuckDBInstance.create(path);
  const c = await check.connect();
  const tables = (await c.runAndReadAll("SELECT table_name FROM duckdb_tables()"))
    .getRowObjectsJS();
  c.closeSync();
  check.closeSync();
  assert.deepEqual(tables, [{ table_name: "customers" }]);
});

Deno.test("a missing ledger opened read-only says how to create one, with either engine", async () => {
  const path = await tempLedgerPath();
  for (const engine of ENGINES) {
    const result = await cli(["verify", "--ledger", path, "--engine", engine]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /no ledger at/);
  }
});

Deno.test("the wasm engine will not write a ledger file, and says what to use instead", async () => {
  const path = await tempLedgerPath();
  await assert.rejects(
    Ledger.open(path, { engine: "wasm" }),
    /wasm engine cannot write the ledger file.*do not keep their tables.*read-only.*:memory:.*native engine/,
  );
  await assert.rejects(Deno.stat(path), Deno.errors.NotFound);
  await assert.rejects(
    Ledger.open(":memory:", { engine: "sqlite" as "wasm" }),
    /unknown ledger engine "sqlite"; use native or wasm/,
  );
});

for (const engine of ENGINES) {
  Deno.test(`${engine}: invalid events are refused with a reason, nothing is stored`, () =>
    withLedger(async (ledger, path) => {
      // @ts-expect-error: actor is required
      await assert.rejects(ledger.append({ type: "x" }), /invalid ledger event[\s\S]*actor/);
      assert.equal(ledger.head.seq, 0);
      if (engine === "native") {
        const readOnly = await Ledger.open(path, { readOnly: true }).catch((e) => e);
        // The writer holds the file; a second open in one process is refused, not corrupted.
        if (readOnly instanceof Ledger) await readOnly.close();
      }
      await ledger.append({ actor: "a", type: "x" });
      assert.equal(ledger.head.seq, 1);
      assert.equal((await ledger.query("SELECT count(*) AS n FROM events")).rows[0].n, 1);
    }, engine));

  Deno.test(`${engine}: an append to a closed ledger is refused`, async () => {
    const ledger = await Ledger.open(engine === "wasm" ? ":memory:" : await tempLedgerPath(), {
      engine,
    });
    await ledger.close();
    await assert.rejects(
      ledger.append({ actor: "a", type: "x" }),
      (err: LedgerError) => err.code === "closed",
    );
  });
}

for (const burst of [100, 5000]) {
  Deno.test(`a commit that cannot be written (file size limit, as on a full disk) fails its appends; every acknowledged event is stored (${burst} appends at once${burst > 1024 ? ": batches in flight on the writer thread" : ""})`, () =>
    fullDisk(burst));
}

async function fullDisk(burst: number) {
  const path = await tempLedgerPath();
  const script = new URL("../fixtures/ledger/fill_disk.ts", import.meta.url).pathname;
  // Writes past a few MiB fail with EFBIG instead of killing the process (SIGXFSZ ignored).
  const out = await new Deno.Command("sh", {
    args: [
      "-c",
      'trap "" XFSZ; ulimit -f 8192; exec "$0" run -A --quiet "$1" "$2" "$3"',
      Deno.execPath(),
      script,
      path,
      String(burst),
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, stderr);
  const { acked, error } = JSON.parse(new TextDecoder().decode(out.stdout));
  assert.ok(acked > 0, "some appends were acknowledged before the limit");
  assert.match(
    error,
    new RegExp(`could not commit \\d+ ledger events to ${path}: .*File too large`),
  );
  const ledger = await Ledger.open(path);
  try {
    assert.equal(ledger.head.seq, acked, "exactly the acknowledged events are stored");
    assert.equal((await verifyChain(ledger)).ok, true);
    const next = await ledger.append({ actor: "writer", type: "after" });
    assert.equal(next.seq, acked + 1);
  } finally {
    await ledger.close();
    await Deno.remove(path.replace(/\/ledger\.duckdb$/, ""), { recursive: true });
  }
}
