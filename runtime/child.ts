import type { ErrorInfo } from "./errors.ts";

export type Exit = { kind: "normal" } | { kind: "crash"; error: ErrorInfo };

/** What a supervisor manages: an actor or another supervisor. */
export interface Child {
  readonly id: string;
  /** Starts (or restarts) the child; rejects if it cannot start. */
  start(): Promise<void>;
  /** Stops the child on its supervisor's request; not reported through `onExit`. */
  stop(deadlineMs: number): Promise<void>;
  /** Releases the child for good: queued messages become dead letters. */
  dispose(reason: string): void;
  /** Set by the supervisor: the child ended by itself (normal exit or crash). */
  onExit: (exit: Exit) => void;
}
