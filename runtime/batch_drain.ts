import type { ActorHost, BatchFailure, BatchResult } from "./actor_host.ts";
import type { HandleOutcome } from "./behaviour_runner.ts";
import { Envelope, envelopeOf, type Queued } from "./envelope.ts";
import { messageType, TroupeError } from "./errors.ts";
import type { PriorityMailbox } from "./priority_mailbox.ts";

const RESOLVED = Promise.resolve();
/** The most messages a worker is given at once (fewer if the mailbox holds fewer). */
const BATCH = 256;
/** Batches a worker may have at once. */
const PIPELINE = 2;

/** What a batched drain does through the cell it drains (the cell's internal API). */
export interface BatchOwner {
  readonly id: string;
  readonly mailbox: PriorityMailbox<Queued>;
  /** running, stopped or disposed (then what is left is refused), or anything else. */
  status(): "running" | "gone" | "other";
  observe(item: Queued): void;
  /** Replies with an outcome; returns the end of a stop the behaviour asked for. */
  settle(host: ActorHost, item: Queued, outcome: HandleOutcome): Promise<void> | undefined;
  threw(host: ActorHost, envelope: Envelope, err: unknown): void;
  crashed(host: ActorHost, err: unknown): void;
  refuse(envelope: Envelope, code: "actor_stopped", reason: string): void;
  /** What the cell awaits before it takes on more: the chain of batches being settled. */
  current(): Promise<void> | undefined;
  setCurrent(p: Promise<void> | undefined): void;
  pump(): void;
}

/**
 * A worker's drain: up to `BATCH` queued messages go over in one message and come back with one
 * answer, so that the threads do not take turns waiting for each other. The worker still handles
 * them one at a time, in order. Those after one that crashed (or that was being handled when the
 * worker died) go back to the front of the mailbox for the next incarnation; those after one that
 * asked to stop are refused as the actor is stopped.
 */
export class BatchDrain {
  /** Batches sent to a worker and not yet settled. */
  #sent = 0;
  /** Messages of the batch sent ahead, holding their room in the mailbox. */
  #held = 0;
  /** Messages in those batches, and the host's processed count when the oldest of them began. */
  #flight?: { messages: number; from: number };
  /** How the incarnation that has batches in flight ended, if it did. */
  #ended?: "crashed" | "stopped";
  /** Messages an ended incarnation did not handle, to put back when its batches are settled. */
  #returned: Envelope[] = [];

  constructor(readonly owner: BatchOwner) {}

  /** True while a worker holds batches. */
  get inFlight(): boolean {
    return !!this.#flight;
  }

  /**
   * Messages waiting, given the host's processed count: those in the mailbox and those a worker
   * was given but has not begun (a batch counts as queued until the worker reaches each message).
   */
  queued(processed: number): number {
    const flight = this.#flight;
    const size = this.owner.mailbox.size;
    if (!flight || flight.messages <= 0) return size;
    const begun = Math.min(flight.messages, processed - flight.from + 1);
    return size + flight.messages - Math.max(0, begun);
  }

  /** Sends batches while the pipeline has room; their answers settle in the order sent. */
  drain(host: ActorHost): void {
    const { owner } = this;
    const { mailbox } = owner;
    const size = Math.min(BATCH, mailbox.capacity);
    // Two batches in flight: the worker starts the second while the first's answer travels.
    // None while an ended incarnation's batches are being given back.
    while (
      this.#sent < PIPELINE && !this.#ended && owner.status() === "running" && mailbox.size > 0
    ) {
      // A batch sent ahead keeps its room in the mailbox until the worker begins it, so that
      // the mailbox's bound still counts every message not yet begun.
      const ahead = this.#sent > 0;
      // Plain tells stay as they are (no envelope each); an envelope is made only if needed.
      const batch: Queued[] = [];
      const messages: unknown[] = [];
      const asks: number[] = [];
      let traces: (string | null)[] | undefined;
      while (batch.length < size && mailbox.size > 0) {
        const item = mailbox.take(ahead);
        owner.observe(item);
        if (item instanceof Envelope) {
          if (item.reply) asks.push(batch.length);
          if (item.trace) {
            (traces ??= new Array(batch.length).fill(null))[batch.length] = item.trace;
          }
          messages.push(item.message);
        } else messages.push(item);
        batch.push(item);
        if (traces && traces.length < batch.length) traces.push(null);
      }
      if (ahead) this.#held = batch.length;
      if (this.#sent++ === 0) this.#flight = { messages: 0, from: host.load().processed };
      this.#flight!.messages += batch.length;
      const answer = host.handleBatch!(messages, asks, traces);
      // Batches are settled in the order they were sent, each after the one before.
      owner.setCurrent(
        (owner.current() ?? RESOLVED).then(() =>
          answer.then(
            (result) => this.#settleBatch(host, batch, result),
            (err) => this.#failBatch(host, batch, err as BatchFailure),
          )
        ).then(() => this.#batchSettled(batch.length)),
      );
    }
  }

  /** A batch's answer: each outcome settled in order, up to a stop or a crash. */
  #settleBatch(host: ActorHost, batch: Queued[], result: BatchResult): Promise<void> | void {
    if (this.#ended || result.skipped) return this.#giveBack(batch);
    const { outcomes, crash } = result;
    for (let i = 0; i < outcomes.length; i++) {
      const ending = this.owner.settle(host, batch[i], outcomes[i]);
      if (ending) {
        this.#ended = "stopped";
        this.#giveBack(batch.slice(i + 1));
        return ending;
      }
    }
    if (crash) this.#lost(host, batch, outcomes.length, crash.error);
  }

  /** A batch whose worker died before answering. */
  #failBatch(host: ActorHost, batch: Queued[], failure: BatchFailure): void {
    if (this.#ended) return this.#giveBack(batch);
    // Those the worker finished were handled; their replies died with it.
    const handled = Math.min(failure.handled ?? 0, batch.length);
    for (const done of batch.slice(0, handled)) {
      if (!(done instanceof Envelope)) continue; // a plain tell: no one waits for a reply
      done.reply?.reject(
        new TroupeError(
          "actor_crashed",
          `message "${messageType(done.message)}" to actor "${this.owner.id}" was handled, ` +
            `but its reply was lost with the worker: ${failure.message}`,
          { actor: this.owner.id, messageType: messageType(done.message) },
        ),
      );
    }
    if (handled < batch.length) this.#lost(host, batch, handled, failure.failure ?? failure);
    else {
      // The worker finished every message, then died before its answer came (the watchdog found
      // it over its heap limit meanwhile): the incarnation still ended, for that reason.
      this.owner.crashed(host, failure.failure ?? failure);
      this.#ended = "crashed";
    }
  }

  /** Message `index` of a batch ended the incarnation; the ones after it wait for the next. */
  #lost(host: ActorHost, batch: Queued[], index: number, error: Error): void {
    this.owner.threw(host, envelopeOf(batch[index]), error);
    this.#ended = "crashed";
    this.#giveBack(batch.slice(index + 1));
  }

  /**
   * Messages an ended incarnation did not handle: refused if it stopped (or the actor is gone),
   * else kept, in order, to go back to the front of the mailbox once every batch is settled.
   */
  #giveBack(items: Queued[]): void {
    if (this.#ended === "stopped" || this.owner.status() === "gone") {
      for (const e of items) {
        this.owner.refuse(envelopeOf(e), "actor_stopped", "the actor stopped before handling it");
      }
    } else this.#returned.push(...items.map(envelopeOf));
  }

  #batchSettled(size: number): void {
    const { owner } = this;
    this.#flight!.messages -= size;
    this.#flight!.from += size;
    // The batch sent ahead is now the worker's current one: its room is given back.
    owner.mailbox.release(this.#held);
    this.#held = 0;
    if (--this.#sent > 0) return;
    this.#flight = undefined;
    owner.setCurrent(undefined);
    const returned = this.#returned;
    this.#returned = [];
    this.#ended = undefined;
    if (returned.length > 0) {
      if (owner.status() === "gone") {
        for (const e of returned) {
          owner.refuse(e, "actor_stopped", `actor "${owner.id}" is stopped`);
        }
      } else owner.mailbox.putBack(returned.map((e) => ({ item: e, priority: e.priority })));
    }
    owner.pump();
  }
}
