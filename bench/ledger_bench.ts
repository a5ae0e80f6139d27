/**
 * Ledger appends/second: hash-chained, group-committed durable appends next to the raw DuckDB
 * appender writing the same rows to the same kind of file in the same run.
 * Target: at least half the raw rate and at least 100,000 events/s.
 */
import { DuckDBInstance, DuckDBTimestampValue } from "@duckdb/node-api";
import { hash } from "node:crypto";
import { Ledger, type LedgerEngine } from "../ledger/mod.ts";
import type { Section } from "./figure.ts";

let N = Number(Deno.env.get("BENCH_LEDGER_N") ?? 200_000);
const BATCH = 4096;
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

/** The ledger's append rate next to the raw appender; `quick`: tiny sizes, to show it still runs. */
export async function benchLedger(quick = false): Promise<Section> {
  if (quick) [N, N_WASM] = [2_000, 500];
  const dir = await Deno.makeTempDir({ prefix: "troupe-bench-" });
  try {
    const raw = await rawAppender(`${dir}/raw.duckdb`);
    const chained = await ledgerAppends(`${dir}/ledger.duckdb`);
    const wasm = await ledgerAppends(":memory:", "wasm", N_WASM);
    return {
      figures: [
        { name: "ledger: raw DuckDB appender, same rows", value: raw },
        { name: "ledger: hash-chained durable appends", value: chained, target: "≥ 100,000" },
        // For hosts without FFI, not for throughput: a smaller run in memory shows its rate.
        { name: "ledger: wasm engine, in memory", value: wasm },
      ],
      ratios: [
        ["ledger: hash-chained durable appends", "ledger: raw DuckDB appender, same rows", "≥ 0.5"],
        ["ledger: wasm engine, in memory", "ledger: hash-chained durable appends", ""],
      ],
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
