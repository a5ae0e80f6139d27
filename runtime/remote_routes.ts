import type { Priority } from "./priority_mailbox.ts";
import type { RegistryEntry } from "./registry.ts";

/**
 * What an actor system reaches actors on other nodes through (a `ClusterNode`): a ref to an
 * actor this system does not hold is delivered there, with the same priorities, timeouts and
 * trace context; discovery and topics span the nodes.
 */
export interface RemoteRoutes {
  /** True when another live node holds actor `id`. */
  has(id: string): boolean;
  /** Sends a tell; false when it could not be sent (the node is gone). */
  tell(to: string, message: unknown, priority: Priority, from?: string, trace?: string): boolean;
  /** Asks actor `to` on its node; rejects as a local ask would (timeout, not found, its error). */
  ask(
    to: string,
    message: unknown,
    priority: Priority,
    timeoutMs: number,
    from?: string,
    trace?: string,
  ): Promise<unknown>;
  /** Running actors on other nodes offering `capability`. */
  find(capability: string): RegistryEntry[];
  /** Sends a publish of this node's to the other nodes' subscribers. */
  publish(topic: string, message: unknown, from?: string): void;
}
