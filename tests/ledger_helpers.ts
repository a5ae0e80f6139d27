import { DuckDBInstance } from "@duckdb/node-api";
import { Ledger, type LedgerEngine } from "../ledger/mod.ts";

/** Both engines run the ledger suite; the wasm one in memory, as it cannot persist a file. */
export const ENGINES: LedgerEngine[] = ["native", "wasm"];

export async function tempLedgerPath(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "troupe-ledger-" });
  return `${dir}/ledger.duckdb`;
}

/**
 * Opens a fresh ledger (a new file; with the wasm engine, memory, and `path` is ":memory:"),
 * runs `fn`, closes it and removes the folder.
 */
export async function withLedger(
  fn: (ledger: Ledger, path: string) => Promise<void>,
  engine: LedgerEngine = "native",
): Promise<void> {
  const file = await tempLedgerPath();
  const path = engine === "wasm" ? ":memory:" : file;
  const ledger = await Ledger.open(path, { engine });
  try {
    await fn(ledger, path);
  } finally {
    await ledger.close();
    await Deno.remove(file.replace(/\/ledger\.duckdb$/, ""), { recursive: true });
  }
}

/** Tampers with a ledger file directly, as an attacker with file access would. */
export async function tamper(path: string, sql: string): Promise<void> {
  const instance = await DuckDBInstance.create(path);
  const conn = await instance.connect();
  try {
    await conn.run(sql);
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

/** Opens a ledger file read-only, runs one SELECT and closes it again. */
export async function selectFrom(path: string, sql: string): Promise<Record<string, unknown>[]> {
  const ledger = await Ledger.open(path, { readOnly: true });
  try {
    return await ledger.select(sql);
  } finally {
    await ledger.close();
  }
}
