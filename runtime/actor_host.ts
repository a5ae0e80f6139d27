import type { HandleOutcome } from "./behaviour_runner.ts";
import type { Fault } from "./worker_protocol.ts";

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
  /**
   * Handles several messages in order, one at a time, with one answer (a worker host: one
   * message between threads instead of one per message). Rejects with a `BatchFailure` when the
   * host died before answering. `asks`: the indices of the messages whose reply is wanted (the
   * others' replies need not come back). `traces`: each message's sender's `traceparent`, or
   * null; absent when none has one.
   */
  handleBatch?(
    messages: unknown[],
    asks?: number[],
    traces?: (string | null)[],
  ): Promise<BatchResult>;
  /** Runs the behaviour's `terminate`, waiting at most `deadlineMs`, then releases the host. */
  terminate(reason: "normal" | "shutdown", deadlineMs: number): Promise<void>;
  /** Stops the host at once, without `terminate`. */
  kill(): void;
  /** Chaos tests: misbehave in place of the next message (worker hosts only). */
  injectFault?(fault: Fault): void;
  /** Set by the owner: called once if the host fails while not handling a message. */
  onFailure: (error: Error) => void;
  load(): HostLoad;
}

/**
 * What a batch came to: the outcomes of the messages handled, in order, up to and including one
 * that asked to stop; and the one that crashed, if any (handled no further).
 */
export interface BatchResult {
  outcomes: HandleOutcome[];
  crash?: { index: number; error: Error };
  /** None was handled: a batch before it crashed or stopped the incarnation. */
  skipped?: boolean;
}

/** A batch whose host died before answering, after completing `handled` of its messages. */
export class BatchFailure extends Error {
  constructor(readonly failure: Error, readonly handled: number) {
    super(failure.message);
    this.name = "BatchFailure";
  }
}
