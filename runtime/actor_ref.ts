import type { ActorCell } from "./actor_cell.ts";
import type { Priority } from "./priority_mailbox.ts";

/** How a message is sent. */
export interface TellOptions {
  priority?: Priority;
}
/** How a request is sent, and how long its reply may take (default 5000 ms). */
export interface AskOptions extends TellOptions {
  timeoutMs?: number;
}

/** What an ActorRef needs from the system that routes its messages. */
export interface MessageRouter {
  route(to: string, message: unknown, priority: Priority, from?: string): boolean;
  /** True while plain tells (normal priority, no sender, untraced) may be queued directly. */
  readonly direct: boolean;
  /** The cell of actor `to` when it is in this system. */
  cell(to: string): ActorCell | undefined;
  routeWhenRoom(to: string, message: unknown, priority: Priority): Promise<void>;
  routeAsk(
    to: string,
    message: unknown,
    priority: Priority,
    timeoutMs: number,
    from?: string,
  ): Promise<unknown>;
}

/** A handle to an actor by id; it stays valid across restarts. */
export class ActorRef {
  /** The actor's cell, kept between tells while it lasts (a lookup by id per tell was a tenth of one). */
  #cell?: ActorCell;

  constructor(readonly id: string, readonly router: MessageRouter) {}

  /**
   * Fire and forget. Returns false when the message was refused (full mailbox, stopped actor,
   * unknown id); every refusal is a dead letter too.
   */
  tell(message: unknown, options?: TellOptions): boolean {
    const priority = options?.priority ?? "normal";
    if (priority === "normal" && this.router.direct) {
      let cell = this.#cell;
      if (cell === undefined || cell.status === "disposed") {
        cell = this.#cell = this.router.cell(this.id);
      }
      if (cell !== undefined) return cell.enqueue(message, priority);
    }
    return this.router.route(this.id, message, priority);
  }

  /** Like tell, but waits for room in a full `backpressure` mailbox instead of refusing. */
  send(message: unknown, options: TellOptions = {}): Promise<void> {
    return this.router.routeWhenRoom(this.id, message, options.priority ?? "normal");
  }

  /** Request/response: resolves with the behaviour's return value. */
  ask<R = unknown>(message: unknown, options: AskOptions = {}): Promise<R> {
    return this.router.routeAsk(
      this.id,
      message,
      options.priority ?? "normal",
      options.timeoutMs ?? 5000,
    ) as Promise<R>;
  }
}
