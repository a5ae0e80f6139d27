import { DuckDBInstance } from "@duckdb/node-api";
import { dirname } from "node:path";
import { LedgerError } from "./ledger_error.ts";

export const DEFAULT_LEDGER_PATH = ".troupe/ledger.duckdb";

/** DuckDB's file header carries "DUCK" at byte 8; anything else is not ours to open. */
async function checkFile(path: string, mustExist: boolean): Promise<void> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      if (mustExist) {
        throw new LedgerError(
          "open_failed",
          `no ledger at ${path}; run troupe with --ledger ${path} first`,
          { path },
        );
      }
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

/**
 * Opens a DuckDB database for the ledger with external access disabled and configuration
 * locked: ledger SQL can reach nothing but the ledger.
 */
export async function openDuckDb(
  path: string,
  options: { readOnly?: boolean; externalAccess?: boolean } = {},
): Promise<DuckDBInstance> {
  if (path !== ":memory:") {
    await checkFile(path, options.readOnly ?? false);
    if (!options.readOnly) await Deno.mkdir(dirname(path), { recursive: true });
  }
  try {
    return await DuckDBInstance.create(path, {
      access_mode: options.readOnly ? "READ_ONLY" : "READ_WRITE",
      enable_external_access: options.externalAccess ? "true" : "false",
      lock_configuration: "true",
    });
  } catch (err) {
    throw new LedgerError("open_failed", `cannot open ledger ${path}: ${(err as Error).message}`, {
      path,
    });
  }
}
