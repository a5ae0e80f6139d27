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
export {
  ActorSystem,
  type ChildOptions,
  type DeadLetter,
  type SystemOptions,
} from "./actor_system.ts";
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
export { ActorSpec, type ActorSpecInput, Permissions } from "./actor_spec.ts";
export {
  Backoff,
  ChildSpec,
  type ChildSpecInput,
  RestartType,
  Strategy,
  SupervisorSpec,
  type SupervisorSpecInput,
} from "./supervisor_spec.ts";
export { Supervisor } from "./supervisor.ts";
export { OverflowPolicy, Priority, PriorityMailbox } from "./priority_mailbox.ts";
export { Registry, type RegistryEntry } from "./registry.ts";
export { EventStream } from "./event_stream.ts";
export { SystemEvent, type SystemEventType } from "./system_event.ts";
export { type ErrorCode, parseOrThrow, TroupeError } from "./errors.ts";
export { type ActorHealth, HealthMonitor, HealthOptions } from "./health_monitor.ts";
export { AgentFactory, type Lease } from "./agent_factory.ts";
export { AgentTemplate, type AgentTemplateInput, FactoryOptions } from "./agent_template.ts";
export { type Clock, FakeClock, realClock, sleep } from "./clock.ts";
