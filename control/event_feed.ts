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

/** Thrown by `followLedger` when its client fell so far behind that what it holds hit the bound. */
export class FeedOverflow extends Error {
  constructor(readonly held: number, readonly bytes: number, readonly lastSent: number) {
    super(
      `the client fell behind by ${held} events (${bytes} bytes), more than a stream may hold; ` +
        `it was dropped and may reconnect with Last-Event-ID ${lastSent}`,
    );
  }
}

/** What one stream may hold for a client that does not read (default: 10,000 events, 16 MiB). */
export interface FeedBounds {
  maxHeldEvents?: number;
  maxHeldBytes?: number;
  /** Told at once when the bound is hit (a client stuck in a write never reaches the throw). */
  onOverflow?: (overflow: FeedOverflow) => void;
}

/**
 * Follows the ledger from just after `afterSeq`: first what is committed already, then every
 * commit as it lands, each matching event once and in order. Commits that land while the past
 * is being read are held and sent after it, skipping what the past already covered, so a client
 * that reconnects with the last seq it saw (`Last-Event-ID`) misses nothing and gets nothing
 * twice. Stops when `signal` aborts. Only matching events are held, and only up to `bounds`:
 * a client that stops reading is dropped (`FeedOverflow`), not kept in memory without end.
 */
export async function followLedger(
  ledger: Ledger,
  afterSeq: number,
  filter: FeedFilter,
  send: (row: LedgerRow) => Promise<void>,
  signal: AbortSignal,
  bounds: FeedBounds = {},
): Promise<void> {
  const maxEvents = bounds.maxHeldEvents ?? 10_000;
  const maxBytes = bounds.maxHeldBytes ?? 16 * 2 ** 20;
  let last = afterSeq;
  let sent = afterSeq;
  let held: LedgerRow[] = [];
  let heldBytes = 0;
  let overflow: FeedOverflow | undefined;
  let wake: (() => void) | undefined;
  const stop = ledger.onCommit((rows) => {
    if (overflow) return;
    for (const row of rows) {
      if (!matches(row, filter)) continue;
      held.push(row);
      heldBytes += row.payload.length;
    }
    if (held.length > maxEvents || heldBytes > maxBytes) {
      overflow = new FeedOverflow(held.length, heldBytes, sent);
      held = [];
      bounds.onOverflow?.(overflow);
    }
    wake?.();
  });
  const deliver = async (row: LedgerRow) => {
    if (overflow) throw overflow;
    await send(row);
    sent = row.seq;
  };
  const aborted = new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    signal.addEventListener("abort", () => resolve(), { once: true });
  });
  try {
    for await (const row of ledger.rows({ fromSeq: afterSeq + 1 })) {
      if (signal.aborted) return;
      last = row.seq;
      if (matches(row, filter)) await deliver(row);
    }
    while (!signal.aborted) {
      if (overflow) throw overflow;
      const batch = held;
      held = [];
      heldBytes = 0;
      for (const row of batch) {
        if (row.seq <= last) continue;
        last = row.seq;
        await deliver(row);
      }
      if (held.length > 0 || overflow) continue;
      await Promise.race([new Promise<void>((resolve) => wake = resolve), aborted]);
      wake = undefined;
    }
  } finally {
    stop();
  }
}
