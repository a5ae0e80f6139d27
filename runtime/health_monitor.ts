import { z } from "zod";
import type { ActorSystem } from "./actor_system.ts";
import { parseOrThrow } from "./errors.ts";

/** When the health monitor judges an actor stuck, backlogged or failing. */
export const HealthOptions = z.strictObject({
  /** How often every actor is checked. */
  intervalMs: z.number().int().positive().default(250),
  /** stuck: an ask to the actor timed out and it has finished nothing for this long since. */
  stuckAfterMs: z.number().int().positive().default(1000),
  /** backlog: its mailbox is this full (0-1) and it has finished nothing for `stallMs`. */
  highWater: z.number().gt(0).max(1).default(0.9),
  stallMs: z.number().int().positive().default(10_000),
  /** errors: at least `maxFailures` of its reported outcomes within `windowMs` failed, and
   * they are at least half of them. */
  maxFailures: z.number().int().positive().default(3),
  windowMs: z.number().int().positive().default(60_000),
  /** After a restart the actor is left alone this long, so that one cause restarts it once. */
  cooldownMs: z.number().int().min(0).default(5000),
});
/** When the health monitor judges an actor stuck, backlogged or failing. */
export type HealthOptions = z.input<typeof HealthOptions>;

/** What the monitor last saw of one actor. */
export interface ActorHealth {
  actor: string;
  status: string;
  /** Milliseconds since its worker last reported (heartbeat or reply); null when inline. */
  heartbeatAgeMs: number | null;
  mailbox: number;
  /** Mailbox size as a fraction of its capacity. */
  fill: number;
  processed: number;
  /** Reported outcomes within the window. */
  failures: number;
  successes: number;
}

interface Watch {
  processed: number;
  progressAt: number;
  /** Ask timeouts not yet followed by progress: when, and the processed count then. */
  timeouts: { at: number; processed: number }[];
  outcomes: { at: number; ok: boolean }[];
  restartedAt: number;
}

/**
 * Watches every actor of a system — heartbeats and progress, mailbox sizes, ask timeouts and
 * the outcomes callers report — and asks supervisors to restart the ones that are alive but
 * not working. It complements the worker watchdog, which catches only a silent thread: an
 * actor awaiting a promise that never settles keeps sending heartbeats. It runs beside the
 * supervisors on the main thread, not behind a mailbox, so that congestion cannot delay it.
 */
export class HealthMonitor {
  readonly options: z.output<typeof HealthOptions>;
  readonly #watches = new Map<string, Watch>();
  readonly #timer: number;
  readonly #unsubscribe: () => void;

  constructor(readonly system: ActorSystem, options: HealthOptions = {}) {
    this.options = parseOrThrow(HealthOptions, options, "health monitor options");
    this.#unsubscribe = system.events.subscribe((e) => {
      if (e.type === "ask_timeout") {
        const load = system.registry.cell(e.actor)?.load();
        if (load) {
          this.#watch(e.actor).timeouts.push({
            at: this.system.clock.now(),
            processed: load.processed,
          });
        }
      } else if (e.type === "unregistered") this.#watches.delete(e.actor);
    });
    this.#timer = system.clock.setInterval(() => this.check(), this.options.intervalMs);
  }

  /** Tells the monitor how a piece of work done by `actor` went; failures count as errors. */
  report(actor: string, ok: boolean): void {
    const w = this.#watch(actor);
    const t = this.system.clock.now();
    w.outcomes = w.outcomes.filter((o) => t - o.at < this.options.windowMs);
    w.outcomes.push({ at: t, ok });
    if (!ok) this.#checkErrors(actor, w, t);
  }

  /** One pass over every actor; runs every `intervalMs`. */
  check(): void {
    const t = this.system.clock.now();
    for (const cell of this.system.registry.cells()) {
      if (cell.status !== "running") continue;
      const w = this.#watch(cell.id);
      const { processed } = cell.load();
      if (processed !== w.processed) {
        w.processed = processed;
        w.progressAt = t;
        w.timeouts = w.timeouts.filter((x) => x.processed === processed);
      }
      if (t - w.restartedAt < this.options.cooldownMs) continue;
      const stuck = w.timeouts.find((x) => x.processed === processed);
      if (stuck && !cell.idle && t - stuck.at >= this.options.stuckAfterMs) {
        this.#restart(
          cell.id,
          "stuck",
          `an ask to it timed out ${Math.round(t - stuck.at)} ms ago and it has finished ` +
            `nothing since`,
        );
        continue;
      }
      const { capacity } = cell.mailbox;
      if (
        cell.queued >= this.options.highWater * capacity &&
        t - w.progressAt >= this.options.stallMs
      ) {
        this.#restart(
          cell.id,
          "backlog",
          `its mailbox holds ${cell.queued} of ${capacity} messages and it has finished ` +
            `nothing for ${Math.round(t - w.progressAt)} ms`,
        );
      }
    }
  }

  /** What the monitor sees of every actor now. */
  snapshot(): ActorHealth[] {
    const t = this.system.clock.now();
    return [...this.system.registry.cells()].map((cell) => {
      const load = cell.load();
      const outcomes = (this.#watches.get(cell.id)?.outcomes ?? [])
        .filter((o) => t - o.at < this.options.windowMs);
      const failures = outcomes.filter((o) => !o.ok).length;
      return {
        actor: cell.id,
        status: cell.status,
        // A worker's pulse is real time, whatever clock the system reads.
        heartbeatAgeMs: cell.spec.isolation !== "inline" && load.lastSeen > 0
          ? Math.round(performance.now() - load.lastSeen)
          : null,
        mailbox: load.mailbox,
        fill: load.mailbox / cell.mailbox.capacity,
        processed: load.processed,
        failures,
        successes: outcomes.length - failures,
      };
    });
  }

  /** `using monitor = new HealthMonitor(system)` stops it at the end of the scope. */
  [Symbol.dispose](): void {
    this.stop();
  }

  /** Stops watching. */
  stop(): void {
    this.system.clock.clearInterval(this.#timer);
    this.#unsubscribe();
  }

  #checkErrors(actor: string, w: Watch, t: number): void {
    if (t - w.restartedAt < this.options.cooldownMs) return;
    const failures = w.outcomes.filter((o) => !o.ok).length;
    if (failures < this.options.maxFailures || failures * 2 < w.outcomes.length) return;
    this.#restart(
      actor,
      "errors",
      `${failures} of its last ${w.outcomes.length} tasks failed within ` +
        `${this.options.windowMs} ms`,
    );
  }

  #restart(actor: string, signal: "stuck" | "backlog" | "errors", reason: string): void {
    const w = this.#watch(actor);
    if (this.system.registry.cell(actor)?.status !== "running") return;
    this.system.events.emit({ type: "unhealthy", actor, signal, reason });
    w.restartedAt = this.system.clock.now();
    w.timeouts = [];
    w.outcomes = [];
    this.system.restart(actor, `restarted by the health monitor: ${reason}`);
  }

  #watch(actor: string): Watch {
    let w = this.#watches.get(actor);
    if (!w) {
      w = {
        processed: 0,
        progressAt: this.system.clock.now(),
        timeouts: [],
        outcomes: [],
        restartedAt: -Infinity,
      };
      this.#watches.set(actor, w);
    }
    return w;
  }
}
