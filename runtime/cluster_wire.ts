import type { ErrorInfo } from "./errors.ts";
import type { Priority } from "./priority_mailbox.ts";

/** What nodes of a cluster send each other (see `ClusterNode`): one definition, both sides. */

/** A node as the registry holds it, with the actors it offers. */
export interface NodeEntry {
  node: string;
  actors: { id: string; capabilities: string[]; mailbox: number; busyMs: number }[];
  /** When its entry was last seen here (this node's clock). */
  seenAt: number;
  /** How long it may be unseen before it is down (its own setting: its heartbeats' pace). */
  downAfterMs: number;
  /** The teams it leases agents of to other nodes (`RemoteAgents`). */
  teams?: string[];
  /** The actors whose durable mailboxes it hosts (`DurableMailboxes`). */
  durable?: string[];
}

/**
 * A message between nodes: kind, actor, message, priority, sender, trace, ask timeout. Tells go
 * as an array of these, an ask as one.
 */
export interface Envelope {
  k: "tell" | "ask";
  to: string;
  m: unknown;
  p: Priority;
  f?: string;
  t?: string;
  ms?: number;
}

export type Reply = { ok: true; v: unknown } | { ok: false; e: ErrorInfo };

/** The most tells sent to a node as one NATS message. */
export const BATCH = 512;
