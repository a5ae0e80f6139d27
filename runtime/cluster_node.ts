import { deserialize, serialize } from "node:v8";
import {
  connect,
  type ConnectionOptions,
  type Msg,
  type NatsConnection,
} from "@nats-io/transport-node";
import { type KV, Kvm } from "@nats-io/kv";
import type { ActorSystem } from "./actor_system.ts";
import { fromErrorInfo, messageType, toErrorInfo, TroupeError } from "./errors.ts";
import type { Priority } from "./priority_mailbox.ts";
import type { RegistryEntry } from "./registry.ts";
import type { RemoteRoutes } from "./remote_routes.ts";
import { inTrace } from "./trace_context.ts";
import { BATCH, type Envelope, type NodeEntry, type Reply } from "./cluster_wire.ts";

export type { NodeEntry };

/** How a node joins a cluster. */
export interface ClusterOptions {
  /** NATS servers (`nats://host:port`); the client fails over between them. */
  servers: string[];
  /** The cluster's name: its subjects and registry bucket (default `troupe`). */
  cluster?: string;
  /** This node's id, 1 to 28 characters (default: host name, process id and a random tail). */
  node?: string;
  /** How often this node writes its entry in the registry (default 1000 ms). */
  heartbeatMs?: number;
  /** Others take this node for down when unseen for this long (default three heartbeats). */
  downAfterMs?: number;
  /** Passed through to the NATS client: credentials, TLS, reconnect settings. */
  connection?: Partial<ConnectionOptions>;
}

/**
 * This actor system's part of a cluster of systems over NATS. Each node listens on its own
 * subject (`troupe.CLUSTER.node.ID`) for messages to its actors; an ask is a NATS request with
 * the ask's timeout. The registry is a JetStream key-value bucket: each node writes its entry
 * (its actors, their capabilities and load) every heartbeat, and every node watches the bucket;
 * a node unseen for `downAfterMs` is down and its actors leave discovery (liveness as entries
 * that must be refreshed, read by a watcher). Topics go to every node. Messages are copied with
 * V8's structured clone (`node:v8`), as between workers; the NATS client batches what is sent
 * in one turn of the event loop into one write.
 */
export class ClusterNode implements RemoteRoutes {
  readonly #nodes = new Map<string, NodeEntry>();
  /** Actor id to the node that holds it. */
  readonly #owners = new Map<string, string>();
  /** Tells waiting for the end of this turn, by node. */
  readonly #outbox = new Map<string, Envelope[]>();
  #flushing = false;
  #timer?: ReturnType<typeof setInterval>;
  #watching?: Promise<void>;
  #stopWatch?: () => void;
  #left = false;
  /** Per node, what settles when it goes down: asks waiting on it give up then. */
  readonly #gone = new Map<string, PromiseWithResolvers<never>>();
  /** The teams this node leases agents of (set by `RemoteAgents.serve`). */
  teams: string[] = [];
  /** Where tells to actors with durable mailboxes go (set by `DurableMailboxes.start`). */
  durable?: {
    readonly hosted: string[];
    send(to: string, message: unknown, o?: { from?: string }): Promise<void>;
  };
  /** Actors some node hosts a durable mailbox for: kept while their node is down. */
  readonly #durableIds = new Set<string>();

  private constructor(
    readonly system: ActorSystem,
    readonly nc: NatsConnection,
    readonly kv: KV,
    readonly id: string,
    /** The cluster's name (its subjects, registry, ledger and mailbox streams are named by it). */
    readonly cluster: string,
    readonly heartbeatMs: number,
    readonly downAfterMs: number,
  ) {
    this.prefix = `troupe.${cluster}`;
  }
  /** The cluster's NATS subjects begin with this. */
  readonly prefix: string;

  /** Connects `system` to the cluster at `options.servers`; throws, naming them, when it cannot. */
  static async join(system: ActorSystem, options: ClusterOptions): Promise<ClusterNode> {
    const cluster = (options.cluster ?? "troupe").replace(/[^A-Za-z0-9_-]/g, "_");
    const id = (options.node ??
      `${Deno.hostname().slice(0, 12)}-${Deno.pid}-${crypto.randomUUID().slice(0, 6)}`)
      .replace(/[^A-Za-z0-9_-]/g, "_");
    // It goes into the ids of the agents it leases (RUN.NODE.NAME), which are bounded.
    if (id.length === 0 || id.length > 28) {
      throw new TroupeError(
        "invalid_spec",
        `a node's id must be 1 to 28 characters, not "${id}" (${id.length}); give a shorter --name`,
      );
    }
    const heartbeatMs = options.heartbeatMs ?? 1000;
    let nc: NatsConnection;
    try {
      nc = await connect({ ...options.connection, servers: options.servers, name: id });
    } catch (err) {
      throw new TroupeError(
        "invalid_spec",
        `could not reach NATS at ${options.servers.join(", ")}: ${(err as Error).message}. ` +
          "Start a server with JetStream (nats-server -js) or fix --cluster",
      );
    }
    try {
      const downAfterMs = options.downAfterMs ?? 3 * heartbeatMs;
      const kvm = new Kvm(nc);
      const bucket = `${cluster}_nodes`;
      // Entries not refreshed expire, so a node joining later never sees them. Made by the first
      // node; one that finds it made with other settings uses it as it is.
      const kv = await kvm.create(bucket, { history: 1, ttl: downAfterMs })
        .catch(() => kvm.open(bucket));
      const node = new ClusterNode(system, nc, kv, id, cluster, heartbeatMs, downAfterMs);
      await node.#start();
      return node;
    } catch (err) {
      await nc.close().catch(() => {});
      const why = (err as Error).message;
      const at = options.servers.join(", ");
      throw new TroupeError(
        "invalid_spec",
        `NATS at ${at} has no usable JetStream (${why}); use -js`,
      );
    }
  }

  /** The live nodes, this one included. */
  nodes(): NodeEntry[] {
    return [this.#entry(), ...this.#nodes.values()];
  }

  /** True when some node hosts a durable mailbox for actor `id` (tells to it are stored). */
  hasMailbox(id: string): boolean {
    return this.#durableIds.has(id);
  }

  /** True when another live node holds actor `id`. */
  has(id: string): boolean {
    return this.#owners.has(id) || (!!this.durable && this.#durableIds.has(id));
  }

  /** Running actors on other live nodes offering `capability`, with the load they last sent. */
  find(capability: string): RegistryEntry[] {
    return [...this.#nodes.values()].flatMap((n) =>
      n.actors.filter((a) => a.capabilities.includes(capability)).map((a) => ({
        id: a.id,
        capabilities: a.capabilities,
        status: "running" as const,
        load: { mailbox: a.mailbox, busyMs: a.busyMs, processed: 0, lastSeen: n.seenAt },
      }))
    );
  }

  /** Sends a tell to the node holding `to`; false when no live node does. */
  tell(to: string, message: unknown, priority: Priority, from?: string, trace?: string): boolean {
    if (this.durable && this.#durableIds.has(to) && !this.#left) {
      // Stored until handled, whether or not its node is up now.
      this.durable.send(to, message, from ? { from } : {}).catch((err: Error) =>
        this.system.events.emit({
          type: "dead_letter",
          actor: to,
          messageType: messageType(message),
          reason: `its durable mailbox could not store it: ${err.message}`,
          message,
          ...(from ? { from } : {}),
        })
      );
      return true;
    }
    const node = this.#owners.get(to);
    if (!node || this.#left) return false;
    // Tells to a node in one turn go as one NATS message: one copy and one publish for many.
    let queue = this.#outbox.get(node);
    if (!queue) this.#outbox.set(node, queue = []);
    queue.push({ k: "tell", to, m: message, p: priority, f: from, t: trace });
    if (queue.length >= BATCH) this.#flush(node);
    else if (!this.#flushing) {
      this.#flushing = true;
      queueMicrotask(() => this.#flushAll());
    }
    return true;
  }

  /** Sends a node's queued tells (before an ask to it, so that the ask does not overtake them). */
  #flush(node: string): void {
    const queue = this.#outbox.get(node);
    if (!queue?.length) return;
    this.#outbox.delete(node);
    this.nc.publish(`${this.prefix}.node.${node}`, serialize(queue));
  }

  #flushAll(): void {
    this.#flushing = false;
    for (const node of [...this.#outbox.keys()]) this.#flush(node);
  }

  /**
   * Asks the node holding `to`; rejects with `ask_timeout` after `timeoutMs`, `actor_not_found`
   * when no live node holds it (or its node is gone), or the error the actor's node answered.
   */
  async ask(
    to: string,
    message: unknown,
    priority: Priority,
    timeoutMs: number,
    from?: string,
    trace?: string,
  ): Promise<unknown> {
    const node = this.#owners.get(to);
    if (!node || this.#left) {
      throw new TroupeError("actor_not_found", `no node holds actor "${to}"`, { actor: to });
    }
    const e: Envelope = { k: "ask", to, m: message, p: priority, f: from, t: trace, ms: timeoutMs };
    this.#flush(node);
    let msg: Msg;
    try {
      msg = await Promise.race([
        this.nc.request(`${this.prefix}.node.${node}`, serialize(e), { timeout: timeoutMs }),
        this.gone(node),
      ]);
    } catch (err) {
      const message = (err as Error).message;
      const code = /timeout/i.test(message)
        ? "ask_timeout"
        : / is down: /.test(message)
        ? "node_down"
        : "actor_not_found";
      throw new TroupeError(
        code,
        `ask to actor "${to}" on node ${node}: ${message}`,
        { actor: to, node, timeoutMs },
      );
    }
    const reply = deserialize(msg.data) as Reply;
    if (!reply.ok) throw fromErrorInfo(reply.e);
    return reply.v;
  }

  /** Rejects when `node` goes down (never, while it is up); what waits on it races this. */
  gone(node: string): Promise<never> {
    let g = this.#gone.get(node);
    if (!g) {
      this.#gone.set(node, g = Promise.withResolvers<never>());
      g.promise.catch(() => {});
    }
    return g.promise;
  }

  /** Records that `node` holds actor `id` (an agent it just leased), before its next heartbeat. */
  hold(id: string, node: string): void {
    if (this.#nodes.has(node)) this.#owners.set(id, node);
  }

  /** Sends a publish of this node's to the other nodes' subscribers. */
  publish(topic: string, message: unknown, from?: string): void {
    if (this.#left) return;
    this.nc.publish(`${this.prefix}.topic`, serialize({ topic, m: message, f: from, n: this.id }));
  }

  /** Leaves the cluster: its entry is deleted (others see it go at once), then it disconnects. */
  async leave(): Promise<void> {
    if (this.#left) return;
    this.#left = true;
    clearInterval(this.#timer);
    this.system.connect(undefined);
    this.#stopWatch?.();
    await this.kv.delete(this.id).catch(() => {});
    await this.nc.drain().catch(() => {});
    await this.#watching;
  }

  async #start(): Promise<void> {
    this.nc.subscribe(`${this.prefix}.node.${this.id}`, {
      callback: (err, msg) => {
        if (!err) this.#deliver(msg);
      },
    });
    this.nc.subscribe(`${this.prefix}.topic`, {
      callback: (err, msg) => {
        if (err) return;
        const p = deserialize(msg.data) as { topic: string; m: unknown; f?: string; n: string };
        if (p.n !== this.id) this.system.publishHere(p.topic, p.m, p.f);
      },
    });
    const watch = await this.kv.watch();
    this.#stopWatch = () => watch.stop();
    this.#watching = (async () => {
      for await (const e of watch) {
        if (e.key === this.id) continue;
        if (e.operation === "PUT") this.#seen(e.json<NodeEntry>());
        else this.#down(e.key, "it left the cluster");
      }
    })().catch(() => {});
    await this.nc.flush();
    await this.#beat();
    let lastLook = Date.now();
    this.#timer = setInterval(() => {
      void this.#beat();
      const now = Date.now();
      // A look that comes late found this thread busy: the heartbeats it has not read yet may
      // be waiting behind it. It judges no one this time.
      const late = now - lastLook > 2 * this.heartbeatMs;
      lastLook = now;
      if (late) return;
      for (const n of this.#nodes.values()) {
        if (now - n.seenAt > n.downAfterMs) {
          this.#down(n.node, `no heartbeat for ${now - n.seenAt} ms`);
        }
      }
    }, this.heartbeatMs);
    this.system.connect(this);
  }

  #entry(): NodeEntry {
    return {
      node: this.id,
      actors: this.system.registry.list().filter((e) => e.status === "running").map((e) => ({
        id: e.id,
        capabilities: [...e.capabilities],
        mailbox: e.load.mailbox,
        busyMs: Math.round(e.load.busyMs),
      })),
      seenAt: Date.now(),
      downAfterMs: this.downAfterMs,
      ...(this.teams.length ? { teams: this.teams } : {}),
      ...(this.durable?.hosted.length ? { durable: this.durable.hosted } : {}),
    };
  }

  async #beat(): Promise<void> {
    if (this.#left) return;
    await this.kv.put(this.id, JSON.stringify(this.#entry())).catch(() => {});
  }

  #seen(entry: NodeEntry): void {
    const fresh = !this.#nodes.has(entry.node);
    const previous = this.#nodes.get(entry.node);
    for (const a of previous?.actors ?? []) this.#owners.delete(a.id);
    this.#nodes.set(entry.node, { ...entry, seenAt: Date.now() });
    for (const a of entry.actors) {
      if (!this.system.registry.has(a.id)) this.#owners.set(a.id, entry.node);
    }
    for (const id of entry.durable ?? []) this.#durableIds.add(id);
    if (fresh) {
      this.system.events.emit({
        type: "node",
        actor: entry.node,
        state: "up",
        actors: entry.actors.map((a) => a.id),
        reason: "its entry appeared in the registry",
      });
    }
  }

  #down(node: string, reason: string): void {
    const entry = this.#nodes.get(node);
    if (!entry) return;
    this.#nodes.delete(node);
    for (const [id, owner] of this.#owners) if (owner === node) this.#owners.delete(id);
    this.#gone.get(node)?.reject(new Error(`node ${node} is down: ${reason}`));
    this.#gone.delete(node);
    this.system.events.emit({
      type: "node",
      actor: node,
      state: "down",
      actors: entry.actors.map((a) => a.id),
      reason,
    });
  }

  /** A message from another node for an actor here, delivered in its sender's trace context. */
  #deliver(msg: Msg): void {
    let e: Envelope | Envelope[];
    try {
      e = deserialize(msg.data) as Envelope | Envelope[];
    } catch (err) {
      if (msg.reply) msg.respond(serialize({ ok: false, e: toErrorInfo(err) } satisfies Reply));
      return;
    }
    const system = this.system;
    if (Array.isArray(e)) {
      for (const t of e) {
        if (t.t) inTrace(t.t, () => system.ref(t.to).tell(t.m, { priority: t.p }));
        else system.ref(t.to).tell(t.m, { priority: t.p });
      }
      return;
    }
    // The asker's NATS request times out with its timeout; this side waits as long.
    inTrace(e.t, () => system.ref(e.to).ask(e.m, { priority: e.p, timeoutMs: e.ms ?? 5000 }))
      .then(
        (v) => msg.respond(serialize({ ok: true, v } satisfies Reply)),
        (err) => msg.respond(serialize({ ok: false, e: toErrorInfo(err) } satisfies Reply)),
      );
  }
}
