import type { Priority } from "./priority_mailbox.ts";

/**
 * A message on its way to an actor, with the asker's reply handles when it is an ask, and the
 * sender's trace context (a W3C `traceparent`) when it was sent inside a traced span.
 */
export class Envelope {
  constructor(
    readonly message: unknown,
    readonly priority: Priority,
    readonly from?: string,
    readonly reply?: { resolve(value: unknown): void; reject(error: Error): void },
    readonly trace?: string,
  ) {}
}

/**
 * What a mailbox holds: an `Envelope`, or the message itself for a plain tell (normal priority,
 * no sender to record, no reply). A burst of queued tells then costs no object each: those
 * objects outlived the young generation and were most of a burst's garbage-collection time.
 */
export type Queued = Envelope | unknown;

/** The envelope of a queued item (a plain tell's is made when it is taken, and dies young). */
export function envelopeOf(item: Queued): Envelope {
  return item instanceof Envelope ? item : new Envelope(item, "normal");
}
