import { hash } from "node:crypto";
import { canonicalJson } from "../runtime/canonical_json.ts";
import type { LedgerRow } from "./ledger_event.ts";

export { canonicalJson };

/** The `prev_hash` of the first event: 64 zeros. */
export const GENESIS_HASH = "0".repeat(64);

/** SHA-256 over the previous hash and the row's canonical form (everything but the hashes). */
export function chainHash(prevHash: string, row: Omit<LedgerRow, "prevHash" | "hash">): string {
  // An array of strings, integers and nulls: JSON.stringify already writes its RFC 8785 form.
  const head = JSON.stringify([
    row.seq,
    row.ts,
    row.runId,
    row.actor,
    row.type,
    row.causationId,
    row.correlationId,
  ]);
  // One-shot hash(): the chain's hot spot, about twice as fast as createHash().update().digest().
  return hash("sha256", `${prevHash}\n${head}\n${row.payload}`, "hex");
}
