import type { ActorCell } from "./actor_cell.ts";
import type { MessageRouter } from "./actor_ref.ts";
import type { Deadlines } from "./deadlines.ts";
import { Envelope } from "./envelope.ts";
import { messageType, TroupeError } from "./errors.ts";
import type { EventStream } from "./event_stream.ts";
import type { Priority } from "./priority_mailbox.ts";
import type { Registry } from "./registry.ts";
import type { RemoteRoutes } from "./remote_routes.ts";
import { captureTrace, tracing } from "./trace_context.ts";

/** What a send delivered at once resolves to: one shared, settled promise. */
const DELIVERED = Promise.resolve();

/** What the router reads from its system. */
export interface RouterEnvironment {
  registry: Registry;
  events: EventStream;
  deadlines: Deadlines;
  /** running, or stopping/stopped: then only messages between actors are delivered. */
  state(): "running" | "stopping" | "stopped";
  deadLetter(to: string, envelope: Envelope, reason: string): void;
  /** The other nodes, when this system is part of a cluster. */
  remote(): RemoteRoutes | undefined;
}

/**
 * How a system's refs deliver: tell, send (waiting for room) and ask, with refusals turned into
 * dead letters. The system's own, internal API: refs hold it, the system does not expose it.
 */
export class SystemRouter implements MessageRouter {
  constructor(readonly env: RouterEnvironment) {}

  /**
   * Plain tells may be queued straight to a cell: nothing is traced and the system runs (it sets
   * this false as it begins to stop). A field, read on every tell.
   */
  direct: boolean = !tracing;

  /** The cell of actor `to` when it is in this system. */
  cell(to: string): ActorCell | undefined {
    return this.env.registry.cell(to);
  }

  /** Delivers a message (what `ref.tell` does); false when it was refused. */
  route(to: string, message: unknown, priority: Priority, from?: string): boolean {
    // A plain tell goes as it is; only a refusal, a sender or a trace needs an envelope.
    const trace = captureTrace();
    if (!from && !trace && priority === "normal" && this.env.state() === "running") {
      const cell = this.env.registry.cell(to);
      if (cell) return cell.enqueue(message, priority);
    }
    const remote = this.#remote(to);
    if (remote) return remote.tell(to, message, priority, from, trace);
    const envelope = new Envelope(message, priority, from, undefined, trace);
    const cell = this.#target(to, envelope);
    return cell ? cell.enqueue(envelope, priority) : false;
  }

  /** Delivers a message once a full backpressure mailbox has room (what `ref.send` does). */
  routeWhenRoom(to: string, message: unknown, priority: Priority): Promise<void> {
    // With room (the usual case) it is delivered now, in order with the sender's tells, and the
    // caller's await is the only one.
    if (!this.#full(to)) {
      return this.route(to, message, priority)
        ? DELIVERED
        : Promise.reject(this.#refusedSend(to, message));
    }
    return this.#room(to).then(() => {
      if (!this.route(to, message, priority)) throw this.#refusedSend(to, message);
    });
  }

  /** Asks wait for room in a full `backpressure` mailbox too; the timeout covers the wait. */
  async routeAsk(
    to: string,
    message: unknown,
    priority: Priority,
    timeoutMs: number,
    from?: string,
  ): Promise<unknown> {
    const trace = captureTrace(); // taken now: the wait for room below may lose the context
    // On another node: its own timeout and dead letters apply, there.
    const remote = this.#remote(to);
    if (remote) return await remote.ask(to, message, priority, timeoutMs, from, trace);
    const pending = Promise.withResolvers<unknown>();
    let gaveUp: AbortController | undefined;
    const deadline = this.env.deadlines.add(timeoutMs, () => {
      gaveUp?.abort();
      const type = messageType(message);
      this.env.events.emit({ type: "ask_timeout", actor: to, messageType: type, timeoutMs });
      pending.reject(
        new TroupeError(
          "ask_timeout",
          `ask to actor "${to}" with message "${type}" got no reply within ${timeoutMs} ms`,
          { actor: to, messageType: type, timeoutMs },
        ),
      );
    });
    try {
      // Only a full backpressure mailbox makes the ask wait; otherwise it is queued now, so that
      // it keeps its place among messages the caller sends right after it.
      if (this.#full(to)) {
        gaveUp = new AbortController();
        await this.#room(to, gaveUp.signal).catch(() => {});
      }
      if (!deadline.done) {
        const envelope = new Envelope(message, priority, from, pending, trace);
        this.#target(to, envelope)?.enqueue(envelope, priority);
      }
      return await pending.promise;
    } finally {
      this.env.deadlines.cancel(deadline);
    }
  }

  #refusedSend(to: string, message: unknown): TroupeError {
    return new TroupeError(
      "mailbox_full",
      `message "${messageType(message)}" to actor "${to}" was refused; see dead letters`,
      { actor: to },
    );
  }

  /** Resolves once `to` can take a message without refusing it for lack of room. */
  async #room(to: string, signal?: AbortSignal): Promise<void> {
    while (this.#full(to)) await this.env.registry.cell(to)!.mailbox.room(signal);
  }

  /** True when `to` has a backpressure mailbox with no room left. */
  #full(to: string): boolean {
    const cell = this.env.registry.cell(to);
    return !!cell && cell.spec.mailbox.overflow === "backpressure" && cell.mailbox.full;
  }

  /** The cluster, when `to` is not here and another node holds it. */
  #remote(to: string): RemoteRoutes | undefined {
    const remote = this.env.remote();
    return remote && !this.env.registry.has(to) && remote.has(to) ? remote : undefined;
  }

  #target(to: string, envelope: Envelope): ActorCell | undefined {
    const state = this.env.state();
    if (state !== "running" && !envelope.from) {
      this.#refuse(to, envelope, "system_stopping", `the actor system is ${state}`);
      return undefined;
    }
    const cell = this.env.registry.cell(to);
    if (!cell) this.#refuse(to, envelope, "actor_not_found", `no actor with id "${to}"`);
    return cell;
  }

  #refuse(
    to: string,
    envelope: Envelope,
    code: "system_stopping" | "actor_not_found",
    reason: string,
  ): void {
    this.env.deadLetter(to, envelope, reason);
    envelope.reply?.reject(
      new TroupeError(
        code,
        `message "${messageType(envelope.message)}" to actor "${to}" was not delivered: ${reason}`,
        { actor: to },
      ),
    );
  }
}
