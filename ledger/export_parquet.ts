import { join, resolve } from "node:path";
import { Ledger } from "./ledger.ts";
import type { LedgerEngine } from "./ledger_store.ts";

/** Writes the events table, in sequence order, to DIR/events.parquet. Returns the file path. */
export async function exportParquet(
  ledgerPath: string,
  dir: string,
  engine?: LedgerEngine,
): Promise<{ file: string; events: number }> {
  await Deno.mkdir(dir, { recursive: true });
  const file = resolve(join(dir, "events.parquet"));
  const ledger = await Ledger.open(ledgerPath, { readOnly: true, externalAccess: true, engine });
  try {
    await ledger.store.exportParquet(file);
    return { file, events: ledger.head.seq };
  } finally {
    await ledger.close();
  }
}
