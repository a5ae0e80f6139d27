import type { z } from "zod";
import type { Priority } from "./priority_mailbox.ts";

/** How much a log line matters. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** What a behaviour can do; the same in a worker and inline. */
export interface ActorContext<S = unknown> {
  /** This actor's id. */
  readonly self: string;
  /** The actor's state: set it in `init`, read or replace it in `receive`. */
  state: S;
  /** Sends a message to another actor (or itself); it is taken after this one is handled. */
  tell(to: string, message: unknown, options?: { priority?: Priority }): void;
  /** Sends a request and waits for its reply (default 5000 ms). */
  ask<R = unknown>(to: string, message: unknown, options?: { timeoutMs?: number }): Promise<R>;
  /** Sends a message to every subscriber of a topic. */
  publish(topic: string, message: unknown): void;
  /** Subscribes this actor to a topic. */
  subscribe(topic: string): void;
  /** Emits a `log` event for this actor. */
  log(text: string, level?: LogLevel): void;
  /**
   * Event sourcing: applies `event` to `state` with the behaviour's `persistence.apply` at once
   * and stores it; the message's reply (to an `ask`) is given only once every event it persisted
   * is durable, and if storing fails the reply is that error and the actor restarts from what was
   * stored. The events of consecutive messages share commits. After a restart or a crash of the
   * whole process, the state is rebuilt from the latest snapshot and the events after it.
   */
  persist(event: unknown): Promise<void>;
  /** Ends this actor normally once the current message is handled. */
  stop(): void;
}

/** The context `init` gets: everything but the state it is about to build. */
export type InitContext = Omit<ActorContext<unknown>, "state" | "persist">;

/** How an event-sourced actor's state is rebuilt from its stored events. */
export interface Persistence<S> {
  /** Folds one stored event into the state; must be deterministic. */
  apply(state: S, event: unknown): S;
  /** Store a snapshot after this many events (default 100), bounding recovery time. */
  snapshotEvery?: number;
}

/** A behaviour: what `defineActor` returns and a behaviour module exports by default. */
export interface ActorDefinition<M = unknown, S = unknown> {
  /** Validates every incoming message; failures go to dead letters and the actor keeps running. */
  messages?: z.ZodType<M>;
  /** Builds the initial state from the spawn `args`. */
  init?(args: unknown, ctx: InitContext): S | Promise<S>;
  /** Handles one message; the value returned is the reply to `ask`. */
  receive(message: M, ctx: ActorContext<S>): unknown;
  /** Called on a graceful stop, not after a crash. */
  terminate?(ctx: ActorContext<S>, reason: "normal" | "shutdown"): void | Promise<void>;
  /** Makes the state event-sourced (see `ActorContext.persist`). */
  persistence?: Persistence<S>;
}

/**
 * Defines an actor behaviour. Export it as the module's default export so that it can run in
 * a worker of its own or inline:
 *
 * ```ts
 * export default defineActor({
 *   messages: z.object({ type: z.literal("add"), n: z.number() }),
 *   init: (args) => Number(args ?? 0),
 *   receive(msg, ctx) { ctx.state += msg.n; return ctx.state; },
 * });
 * ```
 */
export function defineActor<M = unknown, S = undefined>(definition: {
  messages?: z.ZodType<M>;
  init?(args: unknown, ctx: InitContext): S | Promise<S>;
  receive(message: NoInfer<M>, ctx: ActorContext<NoInfer<S>>): unknown;
  terminate?(ctx: ActorContext<NoInfer<S>>, reason: "normal" | "shutdown"): void | Promise<void>;
  persistence?: Persistence<NoInfer<S>>;
}): ActorDefinition<M, S> {
  return definition;
}
