import { relative, resolve } from "node:path";
import { type Clock, realClock } from "../runtime/mod.ts";
import type { RunDesk } from "./run_desk.ts";

/** How a watched repository is assessed. */
export interface WatchOptions {
  repo: string;
  /** Quiet time after the last change before a run starts (default 2000 ms). */
  debounceMs?: number;
  /** The goal of each run (default: an assessment). */
  goal?: string;
  /** Where each run's results go (default `.troupe/watch/RUN`). */
  out?: string;
  clock?: Clock;
}

/** Paths whose changes never start a run: version control, troupe's own output, dependencies. */
const IGNORED = /(^|\/)(\.git|\.troupe|node_modules|target|dist|build|__pycache__)(\/|$)/;

/** True when a change to `path` is a change to the project in `repo` (results in `out` aside). */
export function relevantChange(repo: string, path: string, out?: string): boolean {
  const rel = relative(repo, path);
  if (rel === "" || rel.startsWith("..")) return false;
  if (out && !relative(out, path).startsWith("..")) return false;
  return !IGNORED.test(rel);
}

/**
 * Keeps the team on a repository: a change to its files (past a quiet period, so a burst of
 * saves is one change) starts an assessment run through the server's run desk. A change while
 * that run goes on starts one more after it, never two at once.
 */
export class RepoWatcher {
  readonly repo: string;
  /** Changes seen since the last run started. */
  pending = 0;
  /** Runs this watcher started. */
  readonly started: string[] = [];
  #watcher?: Deno.FsWatcher;
  #timer?: number;
  #running?: Promise<unknown>;
  #again = false;
  readonly #clock: Clock;

  constructor(readonly runs: RunDesk, readonly o: WatchOptions) {
    this.repo = resolve(o.repo);
    this.#clock = o.clock ?? realClock;
  }

  /** Starts watching; changes from now on count. */
  start(): void {
    this.#watcher = Deno.watchFs(this.repo, { recursive: true });
    const out = this.o.out ? resolve(this.o.out) : undefined;
    (async () => {
      for await (const event of this.#watcher!) {
        if (event.paths.some((p) => relevantChange(this.repo, p, out))) this.#changed();
      }
    })().catch(() => {});
  }

  /** Stops watching; a run already started goes on under the desk. */
  stop(): void {
    this.#clock.clearTimeout(this.#timer);
    try {
      this.#watcher?.close();
    } catch { /* already closed */ }
  }

  #changed(): void {
    this.pending++;
    this.#clock.clearTimeout(this.#timer);
    this.#timer = this.#clock.setTimeout(() => this.#fire(), this.o.debounceMs ?? 2000);
  }

  #fire(): void {
    if (this.#running) {
      this.#again = true; // one more after the current run, however many changes came
      return;
    }
    this.pending = 0;
    this.#running = this.runs.submit({
      repo: this.repo,
      goal: this.o.goal ?? "assess this repository (files changed)",
      ...(this.o.out ? { out: this.o.out } : {}),
    }).then(async (runId) => {
      this.started.push(runId);
      await this.runs.settled(runId);
    }).catch(() => {}).finally(() => {
      this.#running = undefined;
      if (this.#again) {
        this.#again = false;
        this.#fire();
      }
    });
  }
}
