import { canonicalJson, chainHash, GENESIS_HASH } from "./hash_chain.ts";
import type { Ack, LedgerEventInput, LedgerRow } from "./ledger_event.ts";
import { LedgerError } from "./ledger_error.ts";
import type { LedgerStore } from "./ledger_store.ts";
import type { z } from "zod";

/** Batches a writer thread may hold at once; more events meanwhile make the next batch bigger. */
const MAX_FLIGHT = 4;

interface Pending {
  input: z.output<typeof LedgerEventInput>;
  ts: number;
  resolve(ack: Ack): void;
  reject(err: Error): void;
}

/**
 * The ledger's group commit: events queue until the clock ticks (or a batch is full), then go
 * to the store in one commit, chained by hash; each is acknowledged only once its commit is
 * stored, so an acknowledged event survives a crash.
 */
export class GroupCommit {
  #queue: Pending[] = [];
  /** Batches sent to a writer thread and not yet answered; the last one's settling. */
  #flight = 0;
  #lastFlight: Promise<void> = Promise.resolve();
  /**
   * Where the next batch is chained from: the committed head, or past the batches in flight.
   * A failure in flight starts a new epoch from the committed head (see `#failed`).
   */
  #next = { seq: 0, hash: GENESIS_HASH, epoch: 0 };
  #seq = 0;
  #hash = GENESIS_HASH;
  readonly #listeners = new Set<(rows: readonly LedgerRow[]) => void>();
  /** Set once the ledger closes: nothing more is sent. */
  closed = false;

  constructor(readonly store: LedgerStore, readonly path: string, readonly maxBatch: number) {}

  /** Goes on from the last event stored. */
  start(head: Ack): void {
    this.#seq = head.seq;
    this.#hash = head.hash;
    this.#next = { ...head, epoch: 0 };
  }

  /** The last committed event. */
  get head(): Ack {
    return { seq: this.#seq, hash: this.#hash };
  }

  /** Queues an event; a full batch is sent at once. */
  push(
    input: z.output<typeof LedgerEventInput>,
    resolve: (ack: Ack) => void,
    reject: (err: Error) => void,
  ): void {
    this.#queue.push({ input, ts: Date.now(), resolve, reject });
    if (this.#queue.length >= this.maxBatch) this.#commitNext();
  }

  /** The group-commit clock: what queued since the last tick goes. */
  tick(): void {
    if (this.#queue.length > 0) this.#commitNext();
  }

  /** See `Ledger.onCommit`. */
  onCommit(listener: (rows: readonly LedgerRow[]) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Commits everything queued so far and waits for the batches in flight. */
  async flush(): Promise<void> {
    while (this.#queue.length > 0 || this.#flight > 0) {
      if (this.#flight > 0) await this.#lastFlight;
      else this.#commitNext();
    }
  }

  /**
   * Commits one batch. Seq and hashes are assigned here and become the head only once the batch
   * is stored, so a failed commit leaves no gap in the chain. On a writer thread, up to
   * `MAX_FLIGHT` batches are in flight, each chained on the one before; the thread stores them in
   * order and refuses one that does not follow what it stored, so a failure fails the batches
   * chained on it too, and the next batch starts again from the committed head.
   */
  #commitNext(): void {
    if (this.#flight >= MAX_FLIGHT) return;
    const batch = this.#queue.splice(0, this.maxBatch);
    if (batch.length === 0) return;
    const { epoch } = this.#next;
    let { seq, hash } = this.#next;
    const rows: LedgerRow[] = batch.map(({ input, ts }) => {
      const row = {
        seq: ++seq,
        ts,
        runId: input.runId,
        actor: input.actor,
        type: input.type,
        causationId: input.causationId,
        correlationId: input.correlationId,
        payload: canonicalJson(input.payload),
      };
      const prevHash = hash;
      hash = chainHash(prevHash, row);
      return { ...row, prevHash, hash };
    });
    let stored;
    try {
      stored = this.store.commit(rows);
    } catch (err) {
      return this.#failed(batch, err as Error, epoch);
    }
    this.#next = { seq, hash, epoch };
    if (!stored) return this.#committed(batch, rows);
    this.#flight++;
    this.#lastFlight = stored.then(
      () => this.#committed(batch, rows),
      (err) => this.#failed(batch, err as Error, epoch),
    ).finally(() => {
      this.#flight--;
      // What queued meanwhile goes at once, not at the next tick.
      if (this.#queue.length > 0 && !this.closed) this.#commitNext();
    });
  }

  #committed(batch: Pending[], rows: LedgerRow[]): void {
    this.#seq = rows[rows.length - 1].seq;
    this.#hash = rows[rows.length - 1].hash;
    batch.forEach((p, i) => p.resolve({ seq: rows[i].seq, hash: rows[i].hash }));
    for (const listener of this.#listeners) {
      try {
        listener(rows);
      } catch {
        this.#listeners.delete(listener);
      }
    }
  }

  #failed(batch: Pending[], err: Error, epoch: number): void {
    // The first failure of an epoch: what follows is chained from the committed head again.
    if (epoch === this.#next.epoch) {
      this.#next = { seq: this.#seq, hash: this.#hash, epoch: epoch + 1 };
    }
    const error = new LedgerError(
      "append_failed",
      `could not commit ${batch.length} ledger events to ${this.path}: ${err.message}`,
    );
    for (const p of batch) p.reject(error);
  }
}
