import { z } from "zod";
import { eventType, type Ledger } from "../../ledger/mod.ts";

/** A request refused before its caller was known (no or a bad token, a body too large). */
export const ControlRefused = eventType(
  "control_refused",
  z.object({
    method: z.string(),
    path: z.string(),
    status: z.number().int(),
    reason: z.string(),
    /** Refusals left out since the last one recorded (over the rate limit). */
    suppressed: z.number().int().min(0),
  }),
);

/**
 * Records refusals in the ledger, at most `perMinute` a minute: a flood of bad tokens is seen,
 * without the flood becoming the ledger's. Those over the limit are counted and the count goes
 * with the next one recorded.
 */
export class RefusalAudit {
  #windowStart = 0;
  #inWindow = 0;
  #suppressed = 0;

  constructor(
    readonly ledger: Ledger,
    readonly perMinute = 60,
    readonly now: () => number = Date.now,
  ) {}

  /** Records one refusal unless the minute's quota is used up. */
  refused(method: string, path: string, status: number, reason: string): void {
    const now = this.now();
    if (now - this.#windowStart >= 60_000) {
      this.#windowStart = now;
      this.#inWindow = 0;
    }
    if (this.#inWindow >= this.perMinute) {
      this.#suppressed++;
      return;
    }
    this.#inWindow++;
    const suppressed = this.#suppressed;
    this.#suppressed = 0;
    void this.ledger.record(ControlRefused, {
      actor: "control",
      payload: { method, path: path.slice(0, 512), status, reason, suppressed },
    }).catch(() => {});
  }
}
