import { join, resolve } from "node:path";
import { Ledger } from "./ledger.ts";

/** Writes the events table, in sequence order, to DIR/events.parquet. Returns the file path. */
export async function exportParquet(
  ledgerPath: string,
  dir: string,
): Promise<{ file: string; events: number }> {
  await Deno.mkdir(dir, { recursive: true });
  const file = resolve(join(dir, "events.parquet"));
  const ledger = await Ledger.open(ledgerPath, { readOnly: true, externalAccess: true });
  try {
    const quoted = file.replaceAll("'", "''");
    await ledger.writer.run(
      `COPY (SELECT * FROM events ORDER BY seq) TO '${quoted}' (FORMAT parquet)`,
    );
    return { file, events: ledger.head.seq };
  } finally {
    await ledger.close();
  }
}
