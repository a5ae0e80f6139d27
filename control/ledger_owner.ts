import { TroupeError } from "../runtime/mod.ts";

/**
 * A ledger file allows one writer. A server holds `LEDGER.serve`, locked by the kernel for as
 * long as it runs and naming its URL, so another command finds out at once who writes the
 * ledger and where to send its work, instead of waiting on DuckDB's file lock.
 */
const ownerFile = (ledgerPath: string) => `${ledgerPath}.serve`;

/** The URL of the server that writes `ledgerPath` now, if one does. */
export async function servedBy(ledgerPath: string): Promise<string | undefined> {
  if (ledgerPath === ":memory:") return undefined;
  let file: Deno.FsFile;
  try {
    file = await Deno.open(ownerFile(ledgerPath), { read: true });
  } catch {
    return undefined;
  }
  try {
    if (await file.tryLock(false)) return undefined; // left by a server that is gone
    const text = await Deno.readTextFile(ownerFile(ledgerPath)).catch(() => "{}");
    return String(JSON.parse(text).url ?? "an unknown address");
  } finally {
    file.close();
  }
}

/** A claim on a ledger: says where its server listens, and lets go when disposed. */
export interface LedgerClaim extends Disposable {
  /** Writes the server's URL into the claim, for others to read. */
  announce(url: string): Promise<void>;
}

/** Takes the ledger for a server; refuses when another server has it. */
export async function claimLedger(ledgerPath: string): Promise<LedgerClaim> {
  if (ledgerPath === ":memory:") {
    return { announce: () => Promise.resolve(), [Symbol.dispose]() {} };
  }
  const file = await Deno.open(ownerFile(ledgerPath), { read: true, write: true, create: true });
  if (!(await file.tryLock(true))) {
    file.close();
    const other = await servedBy(ledgerPath);
    throw new TroupeError(
      "conflict",
      `the ledger ${ledgerPath} is already served by ${other}; stop that server or serve ` +
        `another ledger (--ledger PATH)`,
      { ledger: ledgerPath },
    );
  }
  return {
    async announce(url) {
      await file.truncate(0);
      await file.seek(0, Deno.SeekMode.Start);
      await file.write(new TextEncoder().encode(JSON.stringify({ url, pid: Deno.pid }) + "\n"));
    },
    [Symbol.dispose]() {
      try {
        Deno.truncateSync(ownerFile(ledgerPath), 0);
      } catch { /* already gone */ }
      file.close();
    },
  };
}
