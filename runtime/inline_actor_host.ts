import type { ActorHost, HostLoad } from "./actor_host.ts";
import {
  BehaviourRunner,
  type HandleOutcome,
  loadBehaviour,
  type SystemPort,
} from "./behaviour_runner.ts";
import type { ActorSpec } from "./actor_spec.ts";
import { waitAtMost } from "./deadline.ts";

/**
 * Runs a behaviour on the caller's thread, for light system actors. Messages and replies are
 * copied with structuredClone so that a behaviour sees the same data as it would in a worker.
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
    await this.#runner.init(structuredClone(this.spec.args));
  }

  async handle(message: unknown): Promise<HandleOutcome> {
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
