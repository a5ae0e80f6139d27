/**
 * troupe's actor runtime.
 *
 * ```ts
 * import { ActorSystem } from "./runtime/mod.ts";
 *
 * const system = await ActorSystem.start();
 * const counter = await system.spawn({
 *   id: "counter",
 *   behaviour: new URL("./actors/examples/counter.ts", import.meta.url).href,
 *   permissions: { read: false }, // the default: nothing
 * });
 * counter.tell({ type: "add", n: 2 });
 * console.log(await counter.ask({ type: "get" })); // 2
 * await system.stop();
 * ```
 *
 * @module
 */
export { ActorSystem, type ChildOptions, type SystemOptions } from "./actor_system.ts";
export type { DeadLetter } from "./dead_letter.ts";
export { ActorRef, type AskOptions, type TellOptions } from "./actor_ref.ts";
export {
  type ActorContext,
  type ActorDefinition,
  defineActor,
  type InitContext,
  type LogLevel,
  type Persistence,
} from "./define_actor.ts";
export type { Journal, Recovery } from "./journal.ts";
export type { ActorSpecInput, Permissions } from "./actor_spec.ts";
export type {
  Backoff,
  ChildSpecInput,
  RestartType,
  Strategy,
  SupervisorSpecInput,
} from "./supervisor_spec.ts";
export type { Supervisor } from "./supervisor.ts";
export type { OverflowPolicy, Priority } from "./priority_mailbox.ts";
export type { Registry, RegistryEntry } from "./registry.ts";
export type { ActorLoad, CellStatus } from "./actor_cell.ts";
export type { Fault } from "./worker_protocol.ts";
export type { EventStream } from "./event_stream.ts";
export { SystemEvent, type SystemEventType } from "./system_event.ts";
export { type ErrorCode, type ErrorInfo, TroupeError } from "./errors.ts";
export { type ActorHealth, HealthMonitor, type HealthOptions } from "./health_monitor.ts";
export { AgentFactory, type Lease } from "./agent_factory.ts";
export type { AgentTemplateInput, FactoryOptions } from "./agent_template.ts";
export { type Clock, FakeClock, realClock, sleep } from "./clock.ts";
export { type Random, seededRandom } from "./random.ts";
export {
  permissionFlags,
  ProcessWorker,
  type ProcessWorkerOptions,
  type WorkerLike,
} from "./process_worker.ts";
export {
  clockNow,
  currentEffects,
  Effect,
  EffectDivergence,
  EffectLog,
  fed,
  pinned,
  randomId,
  randomNumber,
  stablePath,
  withEffects,
} from "./effects.ts";
export { sha256Hex } from "./sha256.ts";
export type { RemoteRoutes } from "./remote_routes.ts";
export type { AgentSource } from "./remote_agents.ts";
