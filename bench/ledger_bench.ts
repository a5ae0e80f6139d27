/**
 * Ledger appends/second: hash-chained, group-committed durable appends next to the raw DuckDB
 * appender writing the same rows to the same kind of file in the same run.
 * Target: at least half the raw rate and at least 100,000 events/s.
 */
import { DuckDBInstance, DuckDBTimestampValue } from "@duckdb/node-api";
import { hash } from "node:crypto";
import { Ledger, type LedgerEngine } from "../ledger/mod.ts";

let N = Number(Deno.env.get("BENCH_LEDGER_N") ?? 200_000);
const BATCH = 4096;
/** The wasm engine is for hosts without FFI, not for throughput: a smaller run shows its rate. */
let N_WASM = Number(Deno.env.get("BENCH_LEDGER_WASM_N") ?? 20_000);
const payload = { messageType: "plan", priority: "normal", from: "orchestrator" };

async function rawAppender(path: string): Promise<number> {
  const instance = await DuckDBInstance.create(path);
  const conn = await instance.connect();
  await conn.run(
    `CREATE TABLE events (seq BIGINT, ts TIMESTAMP, run_id VARCHAR, actor VARCHAR, type VARCHAR,
    causation_id BIGINT, correlation_id VARCHAR, payload JSON, prev_hash VARCHAR, hash VARCHAR)`,
  );
  const appender = await conn.createAppender("events");
  // The same row contents as the ledger's, hashes included (64 hex characters each, distinct,
  // so that they cost DuckDB what the ledger's cost), made before the clock starts.
  const hashes = Array.from({ length: N + 1 }, (_, i) => hash("sha256", String(i), "hex"));
  const start = performance.now();
  for (let i = 1; i <= N; i++) {
    appender.appendBigInt(BigInt(i));
    appender.appendTimestamp(new DuckDBTimestampValue(BigInt(Date.now()) * 1000n));
    appender.appendVarchar("bench");
    appender.appendVarchar("actor");
    appender.appendVarchar("delivered");
    appender.appendNull();
    appender.appendNull();
    appender.appendVarchar(JSON.stringify(payload));
    appender.appendVarchar(hashes[i - 1]);
    appender.appendVarchar(hashes[i]);
    appender.endRow();
    if (i % BATCH === 0) appender.flushSync();
  }
  appender.flushSync();
  const rate = N / ((performance.now() - start) / 1000);
  appender.closeSync();
  conn.closeSync();
  instance.closeSync();
  return rate;
}

async function ledgerAppends(
  path: string,
  engine: LedgerEngine = "native",
  total = N,
): Promise<number> {
  const ledger = await Ledger.open(path, { engine });
  const start = performance.now();
  for (let done = 0; done < total; done += BATCH) {
    const n = Math.min(BATCH, total - done);
    await Promise.all(
      Array.from(
        { length: n },
        () => ledger.append({ runId: "bench", actor: "actor", type: "delivered", payload }),
      ),
    );
  }
  const rate = total / ((performance.now() - start) / 1000);
  await ledger.close();
  return rate;
}

/** Prints the ledger's figures; `quick`: tiny sizes, to show it still runs. */
export async function benchLedger(quick = false): Promise<void> {
  if (quick) [N, N_WASM] = [2_000, 500];
  const dir = await Deno.makeTempDir({ prefix: "troupe-bench-" });
  try {
    const raw = await rawAppender(`${dir}/raw.duckdb`);
    const chained = await ledgerAppends(`${dir}/ledger.duckdb`);
    const fmt = (n: number) => Math.round(n).toLocaleString("en").padStart(12);
    console.log(`ledger: ${N.toLocaleString("en")} events, batches of ${BATCH}`);
    console.log(`baseline: raw DuckDB appender                   ${fmt(raw)} /s`);
    console.log(`troupe: hash-chained durable appends            ${fmt(chained)} /s`);
    console.log(`chained / raw: ${(chained / raw).toFixed(2)} (target >= 0.50, and >= 100,000/s)`);
    const wasm = await ledgerAppends(":memory:", "wasm", N_WASM);
    console.log(
      `wasm engine, in memory (${N_WASM.toLocaleString("en")} events)     ${fmt(wasm)} /s` +
        ` (${(wasm / chained).toFixed(3)} of native; no target)`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) {
  await benchLedger();
  Deno.exit(0); // exit explicitly: see the note on DuckDB teardown in the README
}
