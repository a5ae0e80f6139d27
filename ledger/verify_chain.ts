import { chainHash, GENESIS_HASH } from "./hash_chain.ts";
import type { Ledger } from "./ledger.ts";

/** The outcome of recomputing the hash chain: intact, or the first bad seq and why. */
export type Verification =
  | { ok: true; events: number; headHash: string }
  | { ok: false; events: number; seq: number; reason: string };

/**
 * Recomputes the hash chain from the first event. An edited row fails its own hash; a deleted
 * row leaves a gap in seq; reordered rows fail the link to the previous hash.
 */
export async function verifyChain(ledger: Ledger): Promise<Verification> {
  let expectedSeq = 1;
  let prevHash = GENESIS_HASH;
  let events = 0;
  for await (const row of ledger.rows()) {
    const fail = (reason: string): Verification => ({
      ok: false,
      events,
      seq: expectedSeq,
      reason,
    });
    if (row.seq !== expectedSeq) {
      return row.seq > expectedSeq
        ? fail(
          `event ${expectedSeq} is missing (the next one stored is ${row.seq}): a row was deleted`,
        )
        : fail(`event ${row.seq} appears twice`);
    }
    if (row.prevHash !== prevHash) {
      return fail(`event ${row.seq} does not link to the hash of event ${row.seq - 1}`);
    }
    if (chainHash(prevHash, row) !== row.hash) {
      return fail(`event ${row.seq} does not match its hash: it was edited`);
    }
    prevHash = row.hash;
    expectedSeq++;
    events++;
  }
  return { ok: true, events, headHash: prevHash };
}
