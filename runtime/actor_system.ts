import { type DeadLetter, keepable } from "./dead_letter.ts";
import { Deadlines } from "./deadlines.ts";
import { ActorCell, type CellEnvironment } from "./actor_cell.ts";
import { ActorRef } from "./actor_ref.ts";
import { SystemRouter } from "./system_router.ts";
import { InlineActorHost } from "./inline_actor_host.ts";
import { WorkerActorHost } from "./worker_actor_host.ts";
import { ActorSpec, type ActorSpecInput } from "./actor_spec.ts";
import type { SystemPort } from "./behaviour_runner.ts";
import type { Child } from "./child.ts";
import type { Envelope } from "./envelope.ts";
import { messageType, parseOrThrow, TroupeError } from "./errors.ts";
import { EventStream } from "./event_stream.ts";
import { Registry } from "./registry.ts";
import { Supervisor } from "./supervisor.ts";
import {
  type Backoff,
  type ChildSpec,
  ChildTerms,
  type RestartType,
  type Strategy,
  SupervisorSpec,
  type SupervisorSpecInput,
} from "./supervisor_spec.ts";
import { Topics } from "./topics.ts";
import type { Journal } from "./journal.ts";
import type { RemoteRoutes } from "./remote_routes.ts";
import { type Clock, realClock } from "./clock.ts";

/** Supervision terms of a child spawned without options. */
const DEFAULT_TERMS: ChildTerms = Object.freeze(ChildTerms.parse({}));

/** How an actor system is started. */
export interface SystemOptions {
  /** The root supervisor's policy; every spawned actor and tree lives under it. */
  root?: { strategy?: Strategy; intensity?: number; periodMs?: number; backoff?: Partial<Backoff> };
  /** How many recent dead letters `system.deadLetters` keeps. */
  deadLetterCapacity?: number;
  /** Where event-sourced actors store their state (the ledger's `LedgerJournal`). */
  journal?: Journal;
  /**
   * The time ask timeouts, restart backoff, the health monitor, agent pools and the
   * orchestrator read; real time by default, a `FakeClock` in tests.
   */
  clock?: Clock;
}

/** Where and how a spawned actor or tree is supervised. */
export interface ChildOptions {
  restart?: RestartType;
  shutdownMs?: number;
  /** Id of the supervisor to start under; the root supervisor by default. */
  supervisor?: string;
}

/**
 * An actor system: actors in workers or inline, supervised, addressed by id, discoverable by
 * capability, with pub/sub topics, dead letters and one event stream.
 */
export class ActorSystem {
  readonly events = new EventStream();
  readonly registry = new Registry(this.events);
  readonly topics = new Topics();
  readonly deadLetters: DeadLetter[] = [];
  readonly root: Supervisor;
  readonly clock: Clock;
  readonly #supervisors = new Map<string, Supervisor>();
  /** Each actor's and nested supervisor's supervisor, by id. */
  readonly #parents = new Map<string, string>();
  readonly #deadLetterCapacity: number;
  readonly #journal?: Journal;
  readonly #deadlines: Deadlines;
  readonly #router: SystemRouter;
  #state: "running" | "stopping" | "stopped" = "running";
  #remote?: RemoteRoutes;

  private constructor(options: SystemOptions) {
    this.#deadLetterCapacity = options.deadLetterCapacity ?? 1000;
    this.#journal = options.journal;
    this.clock = options.clock ?? realClock;
    this.#deadlines = new Deadlines(this.clock);
    this.#router = new SystemRouter({
      registry: this.registry,
      events: this.events,
      deadlines: this.#deadlines,
      state: () => this.#state,
      deadLetter: (to, envelope, reason) => this.#deadLetter(to, envelope, reason),
      remote: () => this.#remote,
    });
    const spec = parseOrThrow(
      SupervisorSpec,
      { id: "root", ...options.root, children: [] },
      "root supervisor options",
    );
    this.root = this.#supervisor(spec);
  }

  /** Starts a system with its root supervisor. */
  static async start(options: SystemOptions = {}): Promise<ActorSystem> {
    const system = new ActorSystem(options);
    await system.root.start();
    return system;
  }

  /** running, stopping (refusing messages from outside) or stopped. */
  get state(): "running" | "stopping" | "stopped" {
    return this.#state;
  }

  /** Starts an actor under a supervisor (the root by default) and returns its ref. */
  async spawn(spec: ActorSpecInput, options: ChildOptions = {}): Promise<ActorRef> {
    const actor = parseOrThrow(
      ActorSpec,
      spec,
      `actor spec${typeof spec?.id === "string" ? ` "${spec.id}"` : ""}`,
    );
    await this.#startChild({ ...this.#terms(options), actor }, options.supervisor);
    return this.ref(actor.id);
  }

  /** Starts a supervision tree, declared as data, under a supervisor (the root by default). */
  async supervise(spec: SupervisorSpecInput, options: ChildOptions = {}): Promise<Supervisor> {
    const supervisor = parseOrThrow(SupervisorSpec, spec, `supervisor spec "${spec?.id}"`);
    await this.#startChild({ ...this.#terms(options), supervisor }, options.supervisor);
    return this.#supervisors.get(supervisor.id)!;
  }

  /** A child's restart type and shutdown time; the defaults, shared, when none is given. */
  #terms(options: ChildOptions): ChildTerms {
    if (options.restart === undefined && options.shutdownMs === undefined) return DEFAULT_TERMS;
    const { restart, shutdownMs } = options;
    return parseOrThrow(ChildTerms, { restart, shutdownMs }, "child options");
  }

  /** A ref to the actor `id`; it stays valid across restarts. */
  ref(id: string): ActorRef {
    return new ActorRef(id, this.#router);
  }

  /** Running actors with a capability, least loaded first; on every node of a cluster. */
  find(capability: string): ActorRef[] {
    const here = this.registry.find(capability);
    if (!this.#remote) return here.map((e) => this.ref(e.id));
    return [...here, ...this.#remote.find(capability)]
      .sort((a, b) => a.load.mailbox - b.load.mailbox || a.load.busyMs - b.load.busyMs)
      .map((e) => this.ref(e.id));
  }

  /**
   * Joins this system to the other nodes of a cluster (see `ClusterNode`), or leaves it with
   * `undefined`: refs to actors it does not hold then go to the node that does.
   */
  connect(remote: RemoteRoutes | undefined): void {
    this.#remote = remote;
  }

  /**
   * Asks an actor's supervisor to restart it: the running incarnation ends as a crash with
   * `reason`, and the supervisor's strategy, backoff and intensity apply as for any crash.
   * Returns false when the actor is not running.
   */
  restart(id: string, reason: string): boolean {
    return this.registry.cell(id)?.fail(reason) ?? false;
  }

  /** Stops an actor for good and removes it from its supervisor; false if there is none. */
  async remove(id: string, options: { deadlineMs?: number } = {}): Promise<boolean> {
    const parent = this.#parents.get(id);
    const supervisor = parent ? this.#supervisors.get(parent) : undefined;
    return await supervisor?.removeChild(id, options.deadlineMs ?? 5000) ?? false;
  }

  /**
   * Sends `message` to every actor and listener subscribed to `topic`, on every node of a
   * cluster; returns how many here.
   */
  publish(topic: string, message: unknown, from?: string): number {
    this.#remote?.publish(topic, message, from);
    return this.publishHere(topic, message, from);
  }

  /** `publish` to this node's subscribers only (what a publish from another node comes as). */
  publishHere(topic: string, message: unknown, from?: string): number {
    const actors = this.topics.actors(topic);
    for (const id of actors) this.#router.route(id, message, "normal", from);
    const listeners = this.topics.listeners(topic);
    for (const listener of listeners) {
      try {
        listener(structuredClone(message), from);
      } catch (err) {
        this.events.emit({
          type: "log",
          actor: from ?? "system",
          level: "warn",
          text: `topic "${topic}" listener threw: ${err}`,
        });
      }
    }
    return actors.length + listeners.length;
  }

  /** Listens to a topic from outside any actor. */
  subscribe(topic: string, listener: (message: unknown, from?: string) => void): () => void {
    return this.topics.listen(topic, listener);
  }

  /**
   * Graceful stop: refuses new outside messages, lets mailboxes drain until `deadlineMs`, then
   * stops every actor (their `terminate` runs) and terminates the workers left.
   */
  async stop(options: { deadlineMs?: number } = {}): Promise<void> {
    if (this.#state !== "running") return;
    this.#state = "stopping";
    this.#router.direct = false;
    const deadline = performance.now() + (options.deadlineMs ?? 5000);
    const busy = () => [...this.registry.cells()].some((c) => c.status === "running" && !c.idle);
    while (busy() && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    await this.root.stop(Math.max(1, deadline - performance.now()));
    this.root.dispose("the system stopped");
    this.#deadlines.close();
    this.#state = "stopped";
  }

  /** `await using system = await ActorSystem.start()` stops it at the end of the scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop({ deadlineMs: 2000 });
  }

  #deadLetter(to: string, envelope: Envelope, reason: string): void {
    const letter: DeadLetter = {
      to,
      messageType: messageType(envelope.message),
      message: keepable(envelope.message),
      reason,
      ...(envelope.from ? { from: envelope.from } : {}),
    };
    this.deadLetters.push(letter);
    if (this.deadLetters.length > this.#deadLetterCapacity) this.deadLetters.shift();
    const { to: actor, ...rest } = letter;
    this.events.emit({ type: "dead_letter", actor, ...rest });
  }

  /** Starts a child whose spec was parsed (the actor's or tree's once, not again as a child). */
  async #startChild(spec: ChildSpec, supervisorId = "root"): Promise<Child> {
    const id = "actor" in spec ? spec.actor.id : spec.supervisor.id;
    if (this.registry.has(id) || this.#supervisors.has(id)) {
      throw new TroupeError(
        "invalid_spec",
        `an actor or supervisor with id "${id}" already exists; ids must be unique`,
        { id },
      );
    }
    const parent = this.#supervisors.get(supervisorId);
    if (!parent) {
      throw new TroupeError("actor_not_found", `no supervisor with id "${supervisorId}"`, {
        supervisorId,
      });
    }
    return await parent.startChild(spec);
  }

  #supervisor(spec: SupervisorSpec): Supervisor {
    const supervisor = new Supervisor(spec, {
      events: this.events,
      clock: this.clock,
      factory: (child, parent) => this.#child(child, parent),
      // A disposed supervisor's id is free again, as a removed actor's is.
      released: (id) => {
        this.#supervisors.delete(id);
        this.#parents.delete(id);
      },
    });
    this.#supervisors.set(spec.id, supervisor);
    return supervisor;
  }

  #child(spec: ChildSpec, parent: Supervisor): Child {
    if ("supervisor" in spec) {
      this.#parents.set(spec.supervisor.id, parent.id);
      return this.#supervisor(spec.supervisor);
    }
    const cell = new ActorCell(spec.actor, this.#cellEnvironment, parent.id);
    this.registry.add(cell);
    this.#parents.set(cell.id, parent.id);
    return cell;
  }

  readonly #port: SystemPort = {
    tell: (from, to, message, priority) => void this.#router.route(to, message, priority, from),
    ask: (from, to, message, timeoutMs) =>
      this.#router.routeAsk(to, message, "normal", timeoutMs, from),
    publish: (from, topic, message) => void this.publish(topic, message, from),
    subscribe: (actor, topic) => this.topics.subscribeActor(topic, actor),
    log: (actor, level, text) => this.events.emit({ type: "log", actor, level, text }),
    persist: async (actor, event) => await this.#requireJournal(actor).persist(actor, event),
    snapshot: async (actor, state) => await this.#requireJournal(actor).snapshot(actor, state),
    recover: (actor) =>
      this.#journal ? this.#journal.recover(actor) : Promise.resolve({ events: [] }),
  };

  #requireJournal(actor: string): Journal {
    if (this.#journal) return this.#journal;
    throw new TroupeError(
      "invalid_spec",
      `actor "${actor}" persists state but the system has no journal; start it with ` +
        `ActorSystem.start({ journal: new LedgerJournal(ledger) })`,
      { actor },
    );
  }

  readonly #cellEnvironment: CellEnvironment = {
    events: this.events,
    port: this.#port,
    host: (spec) =>
      spec.isolation === "inline"
        ? new InlineActorHost(spec, this.#port)
        : new WorkerActorHost(spec, this.#port),
    deadLetter: (to, envelope, reason) => this.#deadLetter(to, envelope, reason),
    released: (id) => {
      this.registry.remove(id);
      this.topics.unsubscribeActor(id);
      this.#parents.delete(id);
    },
  };
}
