import type { ActorHost, HostLoad } from "./actor_host.ts";
import {
  BehaviourRunner,
  type HandleOutcome,
  isPromise,
  loadBehaviour,
  type SystemPort,
} from "./behaviour_runner.ts";
import type { ActorSpec } from "./actor_spec.ts";
import { waitAtMost } from "./deadline.ts";

/** Busy time is measured on one message in this many (two clock reads cost more than a message). */
const SAMPLE = 256;

/**
 * Runs a behaviour on the caller's thread, for light system actors. Messages are immutable by
 * contract and passed as they are, as in-process actor runtimes do; `copyMessages` copies them
 * (and replies) with structuredClone to show a behaviour that mutates what it was given.
 */
export class InlineActorHost implements ActorHost {
  #runner?: BehaviourRunner;
  #busyMs = 0;
  #processed = 0;
  onFailure: (error: Error) => void = () => {};

  constructor(readonly spec: ActorSpec, readonly port: SystemPort) {}

  async start(): Promise<void> {
    const { behaviour } = this.spec;
    const definition = typeof behaviour === "string" ? await loadBehaviour(behaviour) : behaviour;
    this.#runner = new BehaviourRunner(this.spec.id, definition, this.port);
    // Copied as a worker's would be (structuredClone is an op call: not for a primitive).
    const args = this.spec.args;
    await this.#runner.init(
      typeof args === "object" && args !== null ? structuredClone(args) : args,
    );
  }

  handle(message: unknown): HandleOutcome | Promise<HandleOutcome> {
    if (this.spec.copyMessages) return this.#handleCopy(message);
    // Sampled: the busy time is for load balancing, and its clock reads cost more than a message.
    if (this.#processed++ % SAMPLE !== 0) return this.#runner!.handle(message);
    const started = performance.now();
    const busy = () => {
      this.#busyMs += (performance.now() - started) * SAMPLE;
    };
    try {
      const outcome = this.#runner!.handle(message);
      if (isPromise(outcome)) return Promise.resolve(outcome).finally(busy);
      busy();
      return outcome;
    } catch (err) {
      busy();
      throw err;
    }
  }

  async #handleCopy(message: unknown): Promise<HandleOutcome> {
    let copy: unknown;
    try {
      copy = structuredClone(message);
    } catch (err) {
      return {
        kind: "invalid",
        reason: `message cannot be copied to an actor: ${(err as Error).message}`,
      };
    }
    const started = performance.now();
    try {
      const outcome = await this.#runner!.handle(copy);
      this.#processed++;
      return outcome.kind === "ok"
        ? { ...outcome, reply: structuredClone(outcome.reply) }
        : outcome;
    } finally {
      this.#busyMs += performance.now() - started;
    }
  }

  async terminate(reason: "normal" | "shutdown", deadlineMs: number): Promise<void> {
    await waitAtMost(this.#runner?.terminate(reason), deadlineMs);
  }

  kill(): void {}

  load(): HostLoad {
    return { busyMs: this.#busyMs, processed: this.#processed, lastSeen: performance.now() };
  }
}
