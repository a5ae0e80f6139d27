import { dirname } from "node:path";
import { LedgerError } from "./ledger_error.ts";

/** Where commands keep the ledger unless `--ledger` says otherwise. */
export const DEFAULT_LEDGER_PATH = ".troupe/ledger.duckdb";

/**
 * Checks a ledger path before any engine opens it: DuckDB's file header carries "DUCK" at
 * byte 8, and anything else is not ours to open (or overwrite). A writable ledger gets its
 * folder created.
 */
export async function checkLedgerFile(path: string, readOnly: boolean): Promise<void> {
  if (path === ":memory:") return;
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      if (readOnly) {
        throw new LedgerError(
          "open_failed",
          `no ledger at ${path}; run troupe with --ledger ${path} first`,
          { path },
        );
      }
      await Deno.mkdir(dirname(path), { recursive: true });
      return;
    }
    throw new LedgerError("open_failed", `cannot read ${path}: ${(err as Error).message}`, {
      path,
    });
  }
  try {
    const head = new Uint8Array(12);
    const n = await file.read(head);
    if (!n || n < 12 || new TextDecoder().decode(head.subarray(8, 12)) !== "DUCK") {
      throw new LedgerError(
        "not_a_ledger",
        `${path} is not a DuckDB ledger file (${
          n ? "unknown header" : "empty file"
        }); troupe will not overwrite it. ` +
          `Pass another path with --ledger, or move the file away.`,
        { path },
      );
    }
  } finally {
    file.close();
  }
}
