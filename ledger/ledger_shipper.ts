import type { NatsConnection } from "@nats-io/transport-node";
import { jetstream, type JetStreamClient, jetstreamManager } from "@nats-io/jetstream";
import { ensureStream } from "../runtime/jetstream_stream.ts";
import type { Ledger } from "./ledger.ts";
import type { LedgerRow } from "./ledger_event.ts";

/** The most events one JetStream message carries. */
const BATCH = 500;

/** A cluster's ledger stream and a node's subject in it. */
export function ledgerStream(
  cluster: string,
): { stream: string; subject: (node: string) => string } {
  const name = cluster.replace(/[^A-Za-z0-9_-]/g, "_");
  return { stream: `${name}_ledger`, subject: (node) => `troupe.${name}.ledger.${node}` };
}

/** Makes the cluster's ledger stream when it is not there: file storage, kept until removed. */
export async function ensureLedgerStream(nc: NatsConnection, cluster: string): Promise<string> {
  const { stream, subject } = ledgerStream(cluster);
  return await ensureStream(nc, { name: stream, subjects: [subject(">")] });
}

/**
 * Ships a node's ledger to the cluster's JetStream stream: every committed event, in order, on
 * the node's own subject, as it stands in the node's file (hash chain included, so that the
 * projector can verify each node's chain). It reads from the file, not from memory: on start it
 * asks the stream for the last event it holds from this node and sends what follows, so a node
 * that was offline catches up with no gap; each message carries up to 500 events with a message
 * id of their seqs, so one sent twice (a lost acknowledgement) is stored once.
 */
export class LedgerShipper {
  #shipped = 0;
  #stopped = false;
  #wake?: PromiseWithResolvers<void>;
  #loop?: Promise<void>;
  #stopCommit?: () => void;
  /** The last error met while shipping (it is retried); none when the last attempt went. */
  lastError?: string;

  private constructor(
    readonly ledger: Ledger,
    readonly js: JetStreamClient,
    readonly nc: NatsConnection,
    readonly stream: string,
    readonly subject: string,
    readonly node: string,
  ) {}

  /** Starts shipping `ledger` as node `node` of `cluster`. */
  static async start(
    ledger: Ledger,
    nc: NatsConnection,
    o: { cluster: string; node: string },
  ): Promise<LedgerShipper> {
    const stream = await ensureLedgerStream(nc, o.cluster);
    const shipper = new LedgerShipper(
      ledger,
      jetstream(nc),
      nc,
      stream,
      ledgerStream(o.cluster).subject(o.node),
      o.node,
    );
    shipper.#stopCommit = ledger.onCommit(() => shipper.#wake?.resolve());
    shipper.#loop = shipper.#run();
    return shipper;
  }

  /** The seq of the last event the stream has acknowledged. */
  get shipped(): number {
    return this.#shipped;
  }

  /** Resolves once every event committed so far is in the stream (bounded by `timeoutMs`). */
  async caughtUp(timeoutMs = 30_000): Promise<boolean> {
    await this.ledger.flush();
    const target = this.ledger.head.seq;
    const deadline = Date.now() + timeoutMs;
    while (this.#shipped < target && Date.now() < deadline) {
      this.#wake?.resolve();
      await new Promise((r) => setTimeout(r, 20));
    }
    return this.#shipped >= target;
  }

  /** Stops shipping (what was not sent is sent by the next start, from the stream's last). */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#stopCommit?.();
    this.#wake?.resolve();
    await this.#loop;
  }

  async #run(): Promise<void> {
    let resume = true;
    while (!this.#stopped) {
      this.#wake = Promise.withResolvers<void>();
      try {
        if (resume) this.#shipped = await this.#lastInStream();
        resume = false;
        await this.#sendFrom(this.#shipped + 1);
        this.lastError = undefined;
      } catch (err) {
        // NATS unreachable or the stream refused: start again from what the stream holds.
        this.lastError = (err as Error).message;
        resume = true;
        await Promise.race([this.#wake.promise, new Promise((r) => setTimeout(r, 1000))]);
        continue;
      }
      if (this.ledger.head.seq <= this.#shipped) await this.#wake.promise;
    }
  }

  /** The seq of the last event of this node the stream holds (0 when none). */
  async #lastInStream(): Promise<number> {
    const jsm = await jetstreamManager(this.nc);
    const last = await jsm.streams.getMessage(this.stream, { last_by_subj: this.subject })
      .catch(() => null);
    if (!last) return 0;
    const rows = last.json<LedgerRow[]>();
    return rows[rows.length - 1].seq;
  }

  async #sendFrom(fromSeq: number): Promise<void> {
    let batch: LedgerRow[] = [];
    const send = async () => {
      if (batch.length === 0) return;
      const first = batch[0].seq;
      const last = batch[batch.length - 1].seq;
      await this.js.publish(this.subject, JSON.stringify(batch), {
        msgID: `${this.node}:${first}-${last}`,
      });
      this.#shipped = last;
      batch = [];
    };
    for await (const row of this.ledger.rows({ fromSeq, pageSize: BATCH })) {
      if (this.#stopped) return;
      batch.push(row);
      if (batch.length >= BATCH) await send();
    }
    await send();
  }
}
