import type { ClusterNode } from "../runtime/cluster_node.ts";
import {
  type ForkRequest,
  forkRun,
  type RunHooks,
  type RunRequest,
  type RunResult,
  RunSession,
  RunStopped,
  teamOf,
} from "../actors/mod.ts";
import type { ActorSystem, HealthMonitor } from "../runtime/mod.ts";
import type { Ledger } from "../ledger/mod.ts";
import { TroupeError } from "../runtime/mod.ts";
import { RunIndex } from "./run_index.ts";
import { type RunView, viewRun } from "./run_view.ts";

/** Where the server's runs find keys and the approvals inbox. */
export interface RunDeskOptions {
  keys?: string;
  approvals?: string;
  /** Told of each session's progress and approvals, e.g. to log them. */
  hooks?: RunHooks;
  /** The server's actor system, where each run's team runs beside the others. */
  system?: ActorSystem;
  health?: HealthMonitor;
  /** The cluster `system` belongs to: runs spread their tasks over its nodes. */
  cluster?: ClusterNode;
}

/**
 * The runs a server drives: each a `RunSession`, exactly as the CLI runs it, started in the
 * background. A run outlives the request that submitted it; it ends by itself, by `cancel`, or
 * with the server (which cancels what still runs and waits for it to wind down).
 */
export class RunDesk {
  readonly #running = new Map<string, { session: RunSession; done: Promise<RunResult | Error> }>();
  /** Runs being resumed, claimed before the first await: two resumes must not both start one. */
  readonly #resuming = new Set<string>();

  /** The runs' views, kept from the ledger's commits (see `RunIndex`). */
  readonly #index: RunIndex;

  constructor(readonly ledger: Ledger, readonly options: RunDeskOptions = {}) {
    this.#index = new RunIndex(ledger, (id) => this.active(id));
  }

  /** Validates and starts a run; resolves with its id once `run_started` is in the ledger. */
  async submit(request: RunRequest): Promise<string> {
    const session = await RunSession.start(this.ledger, {
      ...request,
      ...this.#where(),
    }, this.#environment());
    this.#launch(session);
    return session.runId;
  }

  /** Starts a fork in the background; resolves with its id once its history is in the ledger. */
  async fork(parentId: string, request: ForkRequest): Promise<string> {
    const session = await forkRun(this.ledger, parentId, {
      ...request,
      ...this.#where(),
    }, this.#environment());
    this.#launch(session);
    return session.runId;
  }

  /** Resumes an interrupted run in the background. */
  async resume(runId: string): Promise<void> {
    if (this.#running.has(runId) || this.#resuming.has(runId)) {
      throw new TroupeError("conflict", `run "${runId}" is running already`, { runId });
    }
    this.#resuming.add(runId);
    try {
      const view = await viewRun(this.ledger, runId, false);
      if (!view) throw new TroupeError("not_found", `no run "${runId}"`, { runId });
      if (view.finished) {
        throw new TroupeError(
          "conflict",
          `run "${runId}" has finished; there is nothing to resume`,
          { runId },
        );
      }
      this.#launch(
        await RunSession.resume(this.ledger, runId, this.#where(), this.#environment()),
      );
    } finally {
      this.#resuming.delete(runId);
    }
  }

  /** Cancels a running run between tasks; false when this server is not running it. */
  cancel(runId: string, reason: string): boolean {
    const entry = this.#running.get(runId);
    if (!entry) return false;
    entry.session.cancel(reason);
    return true;
  }

  /** True when actor `id` belongs to the team of a run this server runs. */
  owns(id: string): boolean {
    return [...this.#running.keys()].some((runId) => teamOf(runId).owns(id));
  }

  /** True while this server runs `runId`. */
  active(runId: string): boolean {
    return this.#running.has(runId);
  }

  /** A run's view, as the ledger tells it. */
  view(runId: string): Promise<RunView | undefined> {
    return this.#index.view(runId);
  }

  /** The ledger's runs, newest first, each with its status. */
  list(limit = 50): Promise<Omit<RunView, "tasks">[]> {
    return this.#index.list(limit);
  }

  /** Waits for a run this server runs to end; undefined when it runs nothing by that id. */
  async settled(runId: string): Promise<RunResult | Error | undefined> {
    return await this.#running.get(runId)?.done;
  }

  /** Cancels every run still going and waits for each to write its end. */
  async close(reason = "the server stopped"): Promise<void> {
    for (const { session } of this.#running.values()) session.cancel(reason);
    await Promise.all([...this.#running.values()].map((r) => r.done));
    this.#index.close();
  }

  #environment() {
    return {
      ...this.options.hooks,
      ...(this.options.system ? { system: this.options.system } : {}),
      ...(this.options.health ? { health: this.options.health } : {}),
      ...(this.options.cluster ? { clusterNode: this.options.cluster } : {}),
    };
  }

  #where() {
    return {
      ...(this.options.keys ? { keys: this.options.keys } : {}),
      ...(this.options.approvals ? { approvals: this.options.approvals } : {}),
    };
  }

  #launch(session: RunSession): void {
    const done = session.run().then(
      (r) => r,
      async (err: Error) => {
        // Said in the ledger (when it can still take it) and shown by GET /runs/{id}.
        await this.ledger.record(RunStopped, {
          runId: session.runId,
          actor: "orchestrator",
          payload: { reason: err.message.slice(0, 4000) },
        }).catch(() => {});
        return err;
      },
    ).finally(() => this.#running.delete(session.runId));
    this.#running.set(session.runId, { session, done });
  }
}
