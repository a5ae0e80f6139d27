import type { ActorHost, HostLoad } from "./actor_host.ts";
import { BatchDrain } from "./batch_drain.ts";
import { type HandleOutcome, isPromise, NOTHING, type SystemPort } from "./behaviour_runner.ts";
import type { ActorSpec } from "./actor_spec.ts";
import type { Child, Exit } from "./child.ts";
import { waitAtMost } from "./deadline.ts";
import { Envelope, envelopeOf, type Queued } from "./envelope.ts";
import { inTrace, tracing } from "./trace_context.ts";
import { messageType, toErrorInfo, TroupeError } from "./errors.ts";
import type { EventStream } from "./event_stream.ts";
import type { Fault } from "./worker_protocol.ts";
import { type Priority, PriorityMailbox } from "./priority_mailbox.ts";
import { schedule } from "./run_queue.ts";

/** What a cell needs from its system. */
export interface CellEnvironment {
  events: EventStream;
  port: SystemPort;
  /** A new incarnation's host: the system picks it (a worker, a process or inline) by the spec. */
  host(spec: ActorSpec): ActorHost;
  deadLetter(to: string, envelope: Envelope, reason: string): void;
  /** The cell was disposed: it leaves the registry and its topics. */
  released(id: string): void;
}

/** Where an actor is in its life. */
export type CellStatus =
  | "new"
  | "starting"
  | "running"
  | "stopping"
  | "stopped"
  | "failed"
  | "disposed";

/** How loaded an actor is: its host's counters and its mailbox size. */
export interface ActorLoad extends HostLoad {
  mailbox: number;
}

/**
 * The lasting part of an actor: its id, spec and mailbox. Incarnations (hosts) come and go as
 * the supervisor restarts it; messages sent meanwhile wait in the mailbox.
 */
export class ActorCell implements Child {
  readonly mailbox: PriorityMailbox<Queued>;
  #host?: ActorHost;
  #status: CellStatus = "new";
  #incarnation = 0;
  /** A drain is scheduled or running. */
  #draining = false;
  /** What the drain awaits: an asynchronous handler, or the end of a stop the behaviour asked for. */
  #current?: Promise<void>;
  /** A worker's drain, by batches: made when a host that takes batches first drains. */
  #batchDrain?: BatchDrain;
  /** This actor's turn on the thread's run queue (made once, not per drain). */
  readonly #turn = () => this.#drain();
  onExit: (exit: Exit) => void = () => {};

  constructor(readonly spec: ActorSpec, readonly env: CellEnvironment, readonly parent?: string) {
    this.mailbox = new PriorityMailbox(spec.mailbox.capacity, spec.mailbox.overflow);
  }

  /** The batched drain, which works on this cell through what it is lent here and nothing else. */
  get #batches(): BatchDrain {
    return this.#batchDrain ??= new BatchDrain({
      id: this.spec.id,
      mailbox: this.mailbox,
      status: () =>
        this.#status === "running"
          ? "running"
          : this.#status === "disposed" || this.#status === "stopped"
          ? "gone"
          : "other",
      observe: (item) => this.#observe(item),
      settle: (host, item, outcome) => this.#settle(host, item, outcome),
      threw: (host, envelope, err) => this.#threw(host, envelope, err),
      crashed: (host, err) => this.#crashed(host, err),
      refuse: (envelope, code, reason) => this.#refuse(envelope, code, reason),
      current: () => this.#current,
      setCurrent: (p) => void (this.#current = p),
      pump: () => this.#pump(),
    });
  }

  get id(): string {
    return this.spec.id;
  }
  get status(): CellStatus {
    return this.#status;
  }
  /** True while nothing is queued or being handled. */
  get idle(): boolean {
    return this.mailbox.size === 0 && !this.#draining && !this.#current;
  }

  load(): ActorLoad {
    const host = this.#host?.load() ?? { busyMs: 0, processed: 0, lastSeen: 0 };
    const mailbox = this.#batchDrain?.queued(host.processed) ?? this.mailbox.size;
    return { ...host, mailbox };
  }

  /**
   * Messages waiting: those in the mailbox and those a worker was given but has not begun (a
   * batch counts as queued until the worker reaches each message).
   */
  get queued(): number {
    const batches = this.#batchDrain;
    if (!batches) return this.mailbox.size;
    return batches.queued(batches.inFlight ? this.#host?.load().processed ?? 0 : 0);
  }

  async start(): Promise<void> {
    if (this.#status === "disposed") {
      throw new TroupeError("actor_stopped", `actor "${this.id}" was disposed`);
    }
    this.#status = "starting";
    this.#incarnation++;
    const host = this.env.host(this.spec);
    this.#host = host;
    host.onFailure = (error) => this.#crashed(host, error);
    try {
      await host.start();
    } catch (err) {
      host.kill();
      this.#status = "failed";
      const error = toErrorInfo(err);
      this.env.events.emit({
        type: "crashed",
        actor: this.id,
        error: { ...error, message: `init failed: ${error.message}` },
      });
      throw new TroupeError("init_failed", `actor "${this.id}" failed to start: ${error.message}`, {
        actor: this.id,
      });
    }
    for (const topic of this.spec.subscriptions) this.env.port.subscribe(this.id, topic);
    this.#status = "running";
    this.env.events.emit({
      type: "spawned",
      actor: this.id,
      isolation: this.spec.isolation,
      incarnation: this.#incarnation,
      ...(this.parent ? { parent: this.parent } : {}),
    });
    this.#pump();
  }

  /**
   * Queues an envelope, or a plain tell's message as it is (see `Queued`); anything refused or
   * evicted becomes a dead letter, never silently lost.
   */
  enqueue(item: Queued, priority: Priority): boolean {
    // The common case first: a normal message to a running actor with room.
    if (priority === "normal" && this.#status === "running" && this.mailbox.offerNormal(item)) {
      if (!this.#draining) {
        this.#draining = true;
        schedule(this.#turn);
      }
      return true;
    }
    if (this.#status === "disposed" || this.#status === "stopped") {
      this.#refuse(envelopeOf(item), "actor_stopped", `actor "${this.id}" is stopped`);
      return false;
    }
    const offer = this.mailbox.offer(item, priority);
    if (!offer.accepted) {
      this.#refuse(envelopeOf(item), "mailbox_full", offer.reason);
      return false;
    }
    if ("dropped" in offer) {
      this.#refuse(
        envelopeOf(offer.dropped),
        "mailbox_full",
        "dropped as the oldest message of a full mailbox",
      );
    }
    this.#pump();
    return true;
  }

  async stop(deadlineMs: number): Promise<void> {
    const host = this.#host;
    if (this.#status !== "running" && this.#status !== "starting") {
      if (this.#status === "failed") this.#status = "stopped";
      return;
    }
    this.#status = "stopping";
    const started = performance.now();
    await waitAtMost(this.#current, deadlineMs);
    const left = Math.max(1, deadlineMs - (performance.now() - started));
    await host?.terminate("shutdown", left).catch(() => {});
    host?.kill();
    this.#status = "stopped";
    this.env.events.emit({ type: "stopped", actor: this.id, reason: "shutdown" });
  }

  /** Ends the current incarnation as a crash, so that the supervisor restarts it. */
  fail(reason: string): boolean {
    if (this.#status !== "running" || !this.#host) return false;
    this.#crashed(this.#host, new TroupeError("unhealthy", reason, { actor: this.id }));
    return true;
  }

  /**
   * Chaos testing: makes a worker actor misbehave (spin, hang or leak) in place of its next
   * message, as a faulty behaviour would, for the watchdog, the health monitor or the heap limit
   * to catch. False for an inline actor (it would take its caller's thread) or one not running.
   */
  injectFault(fault: Fault): boolean {
    if (this.#status !== "running" || !this.#host?.injectFault) return false;
    this.#host.injectFault(fault);
    return true;
  }

  dispose(reason: string): void {
    this.#host?.kill();
    this.#status = "disposed";
    for (const item of this.mailbox.drain()) {
      this.#refuse(envelopeOf(item), "actor_stopped", reason);
    }
    this.env.released(this.id);
  }

  /**
   * Starts a drain unless one is scheduled or running. The drain is a later turn of the run
   * queue and `#draining` is set before it begins, so a `receive` that tells this actor (or one
   * that tells back) only queues: no actor's `receive` ever runs inside another's stack frame.
   */
  #pump(): void {
    if (this.#draining || this.#status !== "running" || this.mailbox.size === 0) return;
    this.#draining = true;
    schedule(this.#turn);
  }

  /**
   * Handles queued messages one at a time, synchronously while the behaviour is; a handler that
   * returns a promise is awaited (as `#current`) before the next message is taken.
   */
  #drain(): void {
    const host = this.#host!;
    if (host.handleBatch) {
      this.#batches.drain(host);
      this.#draining = false;
      return;
    }
    // Asked once a drain: whether anyone records deliveries (a listener added meanwhile sees the
    // next drain's).
    const observing = this.env.events.observed && this.spec.observeMessages !== false;
    while (this.#status === "running" && this.mailbox.size > 0) {
      // A plain tell is handled without an envelope unless one is needed (a refusal, a crash).
      const item = this.mailbox.take();
      if (observing) this.#observe(item);
      let result;
      try {
        const message = item instanceof Envelope ? item.message : item;
        // Traced, a message is handled in its sender's context (or none), not the drain's.
        result = tracing
          ? inTrace(item instanceof Envelope ? item.trace : undefined, () => host.handle(message))
          : host.handle(message);
      } catch (err) {
        this.#threw(host, envelopeOf(item), err);
        this.#draining = false;
        return;
      }
      const ending = isPromise<HandleOutcome>(result)
        ? Promise.resolve(result).then(
          (outcome) => this.#settle(host, item, outcome),
          (err) => this.#threw(host, envelopeOf(item), err),
        )
        : result === NOTHING && !(item instanceof Envelope)
        ? undefined // a told message that asked for nothing: nothing to settle
        : this.#settle(host, item, result);
      if (ending) {
        // Wait for the handler (or the stop it asked for), then take the next message.
        this.#current = ending.finally(() => {
          this.#current = undefined;
          this.#draining = false;
          this.#pump();
        });
        return;
      }
    }
    this.#draining = false;
    this.#pump(); // a message may have arrived as the drain ended
  }

  /**
   * Replies with a handled message's outcome. When the behaviour asked to stop, returns the end
   * of that stop, which the drain waits for instead of taking another message.
   */
  #settle(host: ActorHost, item: Queued, outcome: HandleOutcome): Promise<void> | undefined {
    if (outcome.kind === "invalid") {
      this.#refuse(envelopeOf(item), "invalid_message", `invalid message: ${outcome.reason}`);
      return undefined;
    }
    const envelope = item instanceof Envelope ? item : undefined;
    if (outcome.durable) {
      // The reply waits for the message's events to be stored; the next message does not. If
      // they cannot be stored, the state held events the journal lacks: the actor restarts.
      outcome.durable.then(
        () => envelope?.reply?.resolve(outcome.reply),
        (err) => {
          envelope?.reply?.reject(err);
          this.#crashed(host, err, envelopeOf(item));
        },
      );
    } else envelope?.reply?.resolve(outcome.reply);
    if (!outcome.stop) return undefined;
    this.#status = "stopping";
    return host.terminate("normal", this.spec.unresponsiveAfterMs).catch(() => {}).then(() => {
      this.#status = "stopped";
      this.env.events.emit({ type: "stopped", actor: this.id, reason: "normal" });
      queueMicrotask(() => this.onExit({ kind: "normal" }));
    });
  }

  /** A message whose handling threw or rejected: a crash, unless the actor was being stopped. */
  #threw(host: ActorHost, envelope: Envelope, err: unknown): void {
    if (this.#status !== "running") {
      this.#refuse(envelope, "actor_stopped", "the actor was stopped while handling it");
      return;
    }
    this.#crashed(host, err, envelope);
    const reason = `actor crashed while handling it: ${(err as Error).message}`;
    this.env.deadLetter(this.id, envelope, reason);
    envelope.reply?.reject(
      new TroupeError(
        "actor_crashed",
        `message "${messageType(envelope.message)}" to actor "${this.id}": ${reason}`,
        {
          actor: this.id,
          messageType: messageType(envelope.message),
        },
      ),
    );
  }

  #observe(item: Queued): void {
    const observe = this.spec.observeMessages;
    if (!this.env.events.observed || observe === false) return;
    if (typeof observe === "number" && Math.random() >= observe) return;
    const envelope = envelopeOf(item);
    this.env.events.emit({
      type: "delivered",
      actor: this.id,
      messageType: messageType(envelope.message),
      priority: envelope.priority,
      ...(envelope.from ? { from: envelope.from } : {}),
    });
  }

  #crashed(host: ActorHost, err: unknown, envelope?: Envelope): void {
    if (host !== this.#host || this.#status !== "running") return;
    host.kill();
    this.#status = "failed";
    const error = toErrorInfo(err);
    if ((err as TroupeError).code === "unresponsive") {
      this.env.events.emit({
        type: "unresponsive",
        actor: this.id,
        silentMs: Number((err as TroupeError).context.silentMs),
      });
    }
    this.env.events.emit({
      type: "crashed",
      actor: this.id,
      error,
      ...(envelope ? { messageType: messageType(envelope.message) } : {}),
    });
    queueMicrotask(() => this.onExit({ kind: "crash", error }));
  }

  #refuse(
    envelope: Envelope,
    code: "actor_stopped" | "mailbox_full" | "invalid_message",
    reason: string,
  ): void {
    this.env.deadLetter(this.id, envelope, reason);
    envelope.reply?.reject(
      new TroupeError(
        code,
        `message "${
          messageType(envelope.message)
        }" to actor "${this.id}" was not handled: ${reason}`,
        {
          actor: this.id,
          messageType: messageType(envelope.message),
        },
      ),
    );
  }
}
