import canonicalize from "canonicalize";
import { createHash } from "node:crypto";
import type { LedgerRow } from "./ledger_event.ts";

export const GENESIS_HASH = "0".repeat(64);

/** RFC 8785 canonical JSON, so a payload hashes the same however its keys were ordered. */
export function canonicalJson(value: unknown): string {
  return canonicalize(value === undefined ? null : value) ?? "null";
}

/** SHA-256 over the previous hash and the row's canonical form (everything but the hashes). */
export function chainHash(prevHash: string, row: Omit<LedgerRow, "prevHash" | "hash">): string {
  const head = canonicalJson([
    row.seq,
    row.ts,
    row.runId,
    row.actor,
    row.type,
    row.causationId,
    row.correlationId,
  ]);
  return createHash("sha256").update(prevHash).update("\n").update(head).update("\n").update(
    row.payload,
  ).digest("hex");
}
