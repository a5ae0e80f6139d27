import type { Priority } from "./priority_mailbox.ts";

/** A message on its way to an actor, with the asker's reply handles when it is an ask. */
export interface Envelope {
  message: unknown;
  priority: Priority;
  from?: string;
  reply?: { resolve(value: unknown): void; reject(error: Error): void };
}
