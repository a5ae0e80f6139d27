import type { HandleOutcome } from "./behaviour_runner.ts";

export interface HostLoad {
  busyMs: number;
  processed: number;
  /** performance.now() of the last sign of life. */
  lastSeen: number;
}

/**
 * Where one incarnation of an actor runs. Two implementations share every test: an inline
 * host on the caller's thread and a worker host in a Deno Worker with its own permissions.
 */
export interface ActorHost {
  /** Loads the behaviour and runs `init`; rejects if either fails. */
  start(): Promise<void>;
  /**
   * Handles one message; throws or rejects when the actor crashes. Synchronous when the
   * behaviour is (inline), so that the mailbox's drain awaits only what is asynchronous.
   */
  handle(message: unknown): HandleOutcome | Promise<HandleOutcome>;
  /** Runs the behaviour's `terminate`, waiting at most `deadlineMs`, then releases the host. */
  terminate(reason: "normal" | "shutdown", deadlineMs: number): Promise<void>;
  /** Stops the host at once, without `terminate`. */
  kill(): void;
  /** Set by the owner: called once if the host fails while not handling a message. */
  onFailure: (error: Error) => void;
  load(): HostLoad;
}
