import { Buffer } from "node:buffer";
import { readTextLimited } from "../runtime/read_limited.ts";

/**
 * A server started without a tokens file still wants a token, as Jupyter does: one made at
 * random when it starts, printed with its address, and kept beside the ledger in `LEDGER.token`,
 * readable by its user only, so that `deno task run --server` on the same ledger finds it. It
 * lives as long as the server: a web page the user opens cannot guess it.
 */
const tokenFile = (ledgerPath: string) => `${ledgerPath}.token`;

/** A fresh token for this run of a server, written where its user (alone) can read it. */
export async function makeLocalToken(
  ledgerPath: string,
): Promise<{ token: string; file?: string; remove(): void }> {
  const token = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url");
  if (ledgerPath === ":memory:") return { token, remove() {} };
  const file = tokenFile(ledgerPath);
  await Deno.remove(file).catch(() => {}); // a file left by another user keeps its own mode
  await Deno.writeTextFile(file, token + "\n", { mode: 0o600, createNew: true });
  return {
    token,
    file,
    remove() {
      try {
        Deno.removeSync(file);
      } catch { /* already gone */ }
    },
  };
}

/** The token of the server that serves `ledgerPath` now, if it made one and this user may read it. */
export async function readLocalToken(ledgerPath: string): Promise<string | undefined> {
  if (ledgerPath === ":memory:") return undefined;
  try {
    return (await readTextLimited(tokenFile(ledgerPath), 1024)).trim() || undefined;
  } catch {
    return undefined;
  }
}
