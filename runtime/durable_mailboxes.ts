import { deserialize, serialize } from "node:v8";
import { nanos } from "@nats-io/transport-node";
import {
  AckPolicy,
  type Consumer,
  jetstream,
  type JetStreamClient,
  jetstreamManager,
  RetentionPolicy,
} from "@nats-io/jetstream";
import type { ClusterNode } from "./cluster_node.ts";
import { messageType } from "./errors.ts";
import { ensureStream } from "./jetstream_stream.ts";

/** How durable mailboxes keep and redeliver messages. */
export interface DurableOptions {
  /**
   * How long a message's id is remembered, so that one sent twice is stored once (JetStream's
   * default is 2 minutes, shorter than an agent's task; default here 1 hour).
   */
  duplicateWindowMs?: number;
  /** How long a delivered message may go unanswered before it is delivered again (default 60 s); extended while the actor works on it. */
  ackWaitMs?: number;
  /** Deliveries after the first before a message is dead-lettered (default 2). */
  redeliveries?: number;
}

/** A message in a durable mailbox: the message and its sender. */
interface Stored {
  m: unknown;
  f?: string;
}

/**
 * Mailboxes that outlive their node, for chosen actors, over a JetStream work-queue stream
 * (`CLUSTER_mailboxes`). A tell to a hosted actor, from any node, is stored in the stream under
 * the actor's subject (with a message id: sent twice within the duplicate window, stored once)
 * and removed only once the actor has handled it; if its node dies first, the node that hosts the
 * actor next gets it again (at least once). While the actor works, the message's acknowledgement
 * deadline is pushed back; a message the actor fails on is delivered again, at most
 * `redeliveries` more times, then dead-lettered (a `dead_letter` system event on its node).
 */
export class DurableMailboxes {
  readonly #hosted = new Map<string, { stop(): void; done: Promise<void> }>();

  private constructor(
    readonly node: ClusterNode,
    readonly js: JetStreamClient,
    readonly stream: string,
    readonly o: Required<DurableOptions>,
  ) {}

  /** Makes the cluster's mailbox stream when missing and lets `node` send to durable mailboxes. */
  static async start(node: ClusterNode, options: DurableOptions = {}): Promise<DurableMailboxes> {
    const o = {
      duplicateWindowMs: options.duplicateWindowMs ?? 3_600_000,
      ackWaitMs: options.ackWaitMs ?? 60_000,
      redeliveries: options.redeliveries ?? 2,
    };
    const stream = await ensureStream(node.nc, {
      name: `${node.cluster}_mailboxes`,
      subjects: [`${node.prefix}.mbox.>`],
      retention: RetentionPolicy.Workqueue,
      duplicate_window: nanos(o.duplicateWindowMs),
    });
    const mailboxes = new DurableMailboxes(node, jetstream(node.nc), stream, o);
    node.durable = mailboxes;
    return mailboxes;
  }

  /**
   * Stores a message for actor `to`, wherever it is hosted, now or later. `id`: the message's
   * id, for de-duplication (a random one by default).
   */
  async send(to: string, message: unknown, o: { from?: string; id?: string } = {}): Promise<void> {
    const stored: Stored = { m: message, ...(o.from ? { f: o.from } : {}) };
    await this.js.publish(`${this.node.prefix}.mbox.${to}`, serialize(stored), {
      msgID: o.id ?? crypto.randomUUID(),
    });
  }

  /** Actors this node hosts the durable mailbox of. */
  get hosted(): string[] {
    return [...this.#hosted.keys()];
  }

  /**
   * Delivers actor `id`'s durable mailbox to it here (the actor runs on this node): what was
   * stored while it was nowhere comes first, in order.
   */
  async host(id: string): Promise<void> {
    if (this.#hosted.has(id)) return;
    const name = `mbox_${id.replace(/[^A-Za-z0-9_-]/g, "_")}`;
    const jsm = await jetstreamManager(this.node.nc);
    await jsm.consumers.add(this.stream, {
      durable_name: name,
      filter_subject: `${this.node.prefix}.mbox.${id}`,
      ack_policy: AckPolicy.Explicit,
      ack_wait: nanos(this.o.ackWaitMs),
      max_deliver: this.o.redeliveries + 1,
    }).catch(() => {}); // made by an earlier host: it goes on where that one stopped
    const consumer = await this.js.consumers.get(this.stream, name);
    let stopped = false;
    let messages: Awaited<ReturnType<Consumer["consume"]>> | undefined;
    const done = (async () => {
      messages = await consumer.consume({ max_messages: 1 });
      for await (const msg of messages) {
        if (stopped) break;
        await this.#deliver(id, msg);
      }
    })().catch(() => {});
    this.#hosted.set(id, {
      stop: () => {
        stopped = true;
        void messages?.close();
      },
      done,
    });
  }

  /** Stops delivering (unhandled messages stay stored for the next host). */
  async stop(): Promise<void> {
    for (const h of this.#hosted.values()) h.stop();
    await Promise.all([...this.#hosted.values()].map((h) => h.done));
    this.#hosted.clear();
  }

  async #deliver(
    id: string,
    msg: Awaited<ReturnType<Consumer["next"]>> & object,
  ): Promise<void> {
    const stored = deserialize(msg.data) as Stored;
    const working = setInterval(() => msg.working(), Math.max(100, this.o.ackWaitMs / 2));
    try {
      await this.node.system.ref(id).ask(stored.m, { timeoutMs: this.o.ackWaitMs * 10 });
      msg.ack();
    } catch (err) {
      if (msg.info.deliveryCount > this.o.redeliveries) {
        msg.term(`dead-lettered: ${(err as Error).message}`);
        this.node.system.events.emit({
          type: "dead_letter",
          actor: id,
          messageType: messageType(stored.m),
          reason: `a durable mailbox's message failed ${msg.info.deliveryCount} deliveries: ` +
            (err as Error).message,
          message: stored.m,
          ...(stored.f ? { from: stored.f } : {}),
        });
      } else msg.nak(Math.min(5_000, 200 * msg.info.deliveryCount));
    } finally {
      clearInterval(working);
    }
  }
}
