import type { Ledger, LedgerRow } from "../ledger/mod.ts";

/** Which ledger events a client follows. */
export interface FeedFilter {
  runId?: string;
  actor?: string;
  /** Event types; all when empty. */
  types?: readonly string[];
  /** `tasks`: the run and task events; `tokens`: model tokens as they stream; `all`. */
  mode?: "tasks" | "tokens" | "all";
}

const TASK_TYPES = /^(run_|task_|approval_|file_applied$)/;

function matches(row: LedgerRow, f: FeedFilter): boolean {
  if (f.runId !== undefined && row.runId !== f.runId) return false;
  if (f.actor !== undefined && row.actor !== f.actor) return false;
  if (f.types?.length && !f.types.includes(row.type)) return false;
  if (f.mode === "tasks" && !TASK_TYPES.test(row.type)) return false;
  if (f.mode === "tokens" && row.type !== "llm_token") return false;
  return true;
}

/**
 * Follows the ledger from just after `afterSeq`: first what is committed already, then every
 * commit as it lands, each matching event once and in order. Commits that land while the past
 * is being read are held and sent after it, skipping what the past already covered, so a client
 * that reconnects with the last seq it saw (`Last-Event-ID`) misses nothing and gets nothing
 * twice. Stops when `signal` aborts.
 */
export async function followLedger(
  ledger: Ledger,
  afterSeq: number,
  filter: FeedFilter,
  send: (row: LedgerRow) => Promise<void>,
  signal: AbortSignal,
): Promise<void> {
  let last = afterSeq;
  let held: LedgerRow[] = [];
  let wake: (() => void) | undefined;
  const stop = ledger.onCommit((rows) => {
    held.push(...rows);
    wake?.();
  });
  const aborted = new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    signal.addEventListener("abort", () => resolve(), { once: true });
  });
  try {
    for await (const row of ledger.rows({ fromSeq: afterSeq + 1 })) {
      if (signal.aborted) return;
      last = row.seq;
      if (matches(row, filter)) await send(row);
    }
    while (!signal.aborted) {
      const batch = held;
      held = [];
      for (const row of batch) {
        if (row.seq <= last) continue;
        last = row.seq;
        if (matches(row, filter)) await send(row);
      }
      if (held.length > 0) continue;
      await Promise.race([new Promise<void>((resolve) => wake = resolve), aborted]);
      wake = undefined;
    }
  } finally {
    stop();
  }
}
