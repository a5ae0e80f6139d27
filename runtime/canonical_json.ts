import canonicalize from "canonicalize";

/**
 * RFC 8785 canonical JSON, so a value hashes and signs the same however its keys were ordered.
 * Shared by the ledger's hash chain and by signed votes and warrants.
 */
export function canonicalJson(value: unknown): string {
  return canonicalize(value === undefined ? null : value) ?? "null";
}
