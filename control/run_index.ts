import { eventKinds, type Ledger, type LedgerRow, readEvent } from "../ledger/mod.ts";
import {
  RUN_EVENTS,
  RUN_VIEW_EVENTS,
  RunFold,
  type RunView,
  type RunViewEvent,
  viewRun,
} from "./run_view.ts";

/** Runs whose tasks are kept in memory once they have ended; older ones are read when asked. */
const KEPT_ENDED = 500;

/**
 * The server's read model of its ledger's runs, kept up to date from the ledger's commits, so
 * that the page's polling (`GET /runs`, `GET /runs/{id}`) reads memory instead of queueing behind
 * the runs' writes on the ledger's one thread. Every run's line is here (read once at start);
 * a run's tasks are here for the runs started since, the newest ended ones kept; any other run's
 * view is read from the ledger as before.
 */
export class RunIndex {
  readonly #runs = new Map<string, RunFold>();
  readonly #kinds = eventKinds(RUN_VIEW_EVENTS);
  readonly #unsubscribe: () => void;
  readonly #ready: Promise<void>;
  /** Commits that landed while the past was read, applied after it. */
  #early: LedgerRow[] | undefined = [];
  /** What the index could not follow (a commit it could not read): it reads the ledger then. */
  #broken?: Error;

  constructor(readonly ledger: Ledger, readonly active: (runId: string) => boolean) {
    this.#unsubscribe = ledger.onCommit((rows) => {
      if (this.#early) this.#early.push(...rows);
      else this.#take(rows, 0);
    });
    this.#ready = this.#load();
  }

  async #load(): Promise<void> {
    let last = 0;
    try {
      last = await readLines(this.ledger, this.#runs);
    } catch (err) {
      this.#broken = err as Error;
    }
    const early = this.#early ?? [];
    this.#early = undefined;
    // What the read above saw is not applied twice: run-level events are in seq order there.
    this.#take(early, last);
  }

  #take(rows: readonly LedgerRow[], after: number): void {
    if (this.#broken) return;
    try {
      for (const row of rows) {
        if (!row.runId || !this.#kinds.has(row.type)) continue;
        const e = readEvent<typeof RUN_VIEW_EVENTS>(this.#kinds, row)!;
        let fold = this.#runs.get(row.runId);
        if (e.type === "run_started" && !fold) {
          this.#runs.set(row.runId, fold = new RunFold(row.runId));
        }
        // A line read at start gets only run-level events; its tasks are read when asked.
        if (!fold || (!fold.withTasks && row.seq <= after)) continue;
        if (!fold.withTasks && !RUN_TYPES.has(e.type)) continue;
        fold.apply(e as RunViewEvent);
        if (e.type === "run_finished" || e.type === "run_stopped") this.#forget();
      }
    } catch (err) {
      this.#broken = err as Error;
    }
  }

  /** Ended runs past the newest `KEPT_ENDED` keep their line and drop their tasks. */
  #forget(): void {
    const ended = [...this.#runs.values()].filter((f) => f.withTasks && f.ended);
    if (ended.length <= KEPT_ENDED) return;
    ended.sort((a, b) => a.startedAt! - b.startedAt!);
    for (const f of ended.slice(0, ended.length - KEPT_ENDED)) {
      this.#runs.set(f.runId, f.lineOnly());
    }
  }

  /** A run's view: from memory when its tasks are here, else read from the ledger. */
  async view(runId: string): Promise<RunView | undefined> {
    await this.#ready;
    const fold = this.#runs.get(runId);
    if (!this.#broken && fold?.withTasks) return fold.view(this.active(runId));
    return await viewRun(this.ledger, runId, this.active(runId));
  }

  /** The newest `limit` runs' lines, newest first. */
  async list(limit: number): Promise<Omit<RunView, "tasks">[]> {
    await this.#ready;
    let runs = this.#runs;
    if (this.#broken) await readLines(this.ledger, runs = new Map());
    return [...runs.values()]
      .filter((f) => f.startedAt !== undefined)
      .sort((a, b) => b.startedAt! - a.startedAt!)
      .slice(0, Math.max(1, Math.floor(limit)))
      .map((f) => f.summary(this.active(f.runId))!);
  }

  /** Stops following the ledger's commits. */
  close(): void {
    this.#unsubscribe();
  }
}

const RUN_TYPES = new Set<string>(RUN_EVENTS.map((k) => k.type));

/** Every run's line, from the ledger's run-level events; returns the seq of the last one. */
async function readLines(ledger: Ledger, into: Map<string, RunFold>): Promise<number> {
  let last = 0;
  for await (const e of ledger.events(RUN_EVENTS)) {
    if (!e.runId) continue;
    let fold = into.get(e.runId);
    if (!fold) into.set(e.runId, fold = new RunFold(e.runId, false));
    fold.apply(e);
    last = e.seq;
  }
  return last;
}
