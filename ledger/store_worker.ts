/// <reference lib="deno.worker" />
/**
 * The ledger's writer thread: a `NativeStore` (DuckDB through FFI) serving one ledger file for
 * `ThreadStore`. A commit holds this thread, not the one actors run on; requests are answered
 * in the order they arrive, a commit start to end before the next.
 */
import { GENESIS_HASH } from "./hash_chain.ts";
import { toErrorInfo } from "../runtime/errors.ts";
import { LedgerError } from "./ledger_error.ts";
import { NativeStore } from "./native_store.ts";
import { fromColumns, type StoreReply, type StoreRequest } from "./thread_store.ts";

let store: NativeStore | undefined;
/** The hash of the last event stored: a batch must be chained on it. */
let head = GENESIS_HASH;

async function serve(r: StoreRequest): Promise<unknown> {
  if (r.op === "open") {
    store = await NativeStore.open(r.path, r.options);
    const [last] = await store.select("SELECT hash FROM events ORDER BY seq DESC LIMIT 1");
    head = last ? String(last.hash) : GENESIS_HASH;
    return undefined;
  }
  if (!store) throw new LedgerError("closed", "the ledger's writer thread has no ledger open");
  switch (r.op) {
    case "commit": {
      // Batches come chained on the ones before; one after a batch that failed is refused.
      const rows = fromColumns(r.rows);
      if (rows.length === 0) return undefined;
      if (rows[0].prevHash !== head) {
        throw new LedgerError(
          "append_failed",
          "an earlier batch was not stored, and this one was chained on it",
        );
      }
      store.commit(rows);
      head = rows[rows.length - 1].hash;
      return undefined;
    }
    case "select":
      return await store.select(r.sql, r.params);
    case "query":
      return await store.query(r.sql, r.options);
    case "export":
      return await store.exportParquet(r.file);
    case "close":
      store.close();
      store = undefined;
      return undefined;
  }
}

self.onmessage = async (e: MessageEvent<StoreRequest>) => {
  const { id } = e.data;
  let reply: StoreReply;
  try {
    reply = { id, ok: true, value: await serve(e.data) };
  } catch (err) {
    // A ledger error keeps its context (what was refused, and why) across the thread.
    const context = err instanceof LedgerError ? { context: err.context } : {};
    reply = { id, ok: false, error: { ...toErrorInfo(err), ...context } };
  }
  self.postMessage(reply);
};
