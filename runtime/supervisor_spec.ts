import { z } from "zod";
import { ActorId, ActorSpec } from "./actor_spec.ts";

/** Which children restart with a crashed one: only it, all, or it and those started after it. */
export const Strategy = z.enum(["one_for_one", "one_for_all", "rest_for_one"]);
/** Which children restart with a crashed one: only it, all, or it and those started after it. */
export type Strategy = z.infer<typeof Strategy>;

/** permanent: always restarted; transient: only after a crash; temporary: never. */
export const RestartType = z.enum(["permanent", "transient", "temporary"]);
/** permanent: always restarted; transient: only after a crash; temporary: never. */
export type RestartType = z.infer<typeof RestartType>;

/** The delay before a restart: from `minMs`, doubling per restart within the period, up to `maxMs`, plus up to `randomFactor` of jitter. */
export const Backoff = z.strictObject({
  minMs: z.number().min(0).default(10),
  maxMs: z.number().min(0).default(2000),
  randomFactor: z.number().min(0).max(1).default(0.2),
});
/** The delay before a restart: from `minMs`, doubling per restart within the period, up to `maxMs`, plus up to `randomFactor` of jitter. */
export type Backoff = z.infer<typeof Backoff>;

const childCommon = {
  restart: RestartType.default("permanent"),
  /** How long a graceful stop may take before the child is killed. */
  shutdownMs: z.number().int().positive().default(5000),
};

/** How a child is supervised: its restart type and shutdown time, without the child itself. */
export const ChildTerms = z.strictObject(childCommon);
/** How a child is supervised: its restart type and shutdown time, without the child itself. */
export type ChildTerms = z.infer<typeof ChildTerms>;

/** A supervision tree as written: `{ id, strategy, intensity, periodMs, backoff, children }`. */
export type SupervisorSpecInput = {
  id: string;
  strategy?: Strategy;
  intensity?: number;
  periodMs?: number;
  backoff?: z.input<typeof Backoff>;
  children?: ChildSpecInput[];
};
/** A child of a supervisor: an actor or a supervisor, with its restart type and shutdown time. */
export type ChildSpecInput =
  & { restart?: RestartType; shutdownMs?: number }
  & ({ actor: z.input<typeof ActorSpec> } | { supervisor: SupervisorSpecInput });

export type SupervisorSpec = {
  id: string;
  strategy: Strategy;
  intensity: number;
  periodMs: number;
  backoff: Backoff;
  children: ChildSpec[];
};
export type ChildSpec =
  & { restart: RestartType; shutdownMs: number }
  & ({ actor: ActorSpec } | { supervisor: SupervisorSpec });

/** A supervision tree, declared as data: `{ strategy, intensity, periodMs, children }`. */
export const SupervisorSpec: z.ZodType<SupervisorSpec, SupervisorSpecInput> = z.lazy(() =>
  z.strictObject({
    id: ActorId,
    strategy: Strategy.default("one_for_one"),
    /** More than `intensity` restarts within `periodMs` and the supervisor gives up and escalates. */
    intensity: z.number().int().min(0).default(3),
    periodMs: z.number().int().positive().default(5000),
    backoff: Backoff.default(Backoff.parse({})),
    children: z.array(ChildSpec).default([]),
  })
);

export const ChildSpec: z.ZodType<ChildSpec, ChildSpecInput> = z.lazy(() =>
  z.union([
    z.strictObject({ ...childCommon, actor: ActorSpec }),
    z.strictObject({ ...childCommon, supervisor: SupervisorSpec }),
  ])
);

export function childId(spec: ChildSpec): string {
  return "actor" in spec ? spec.actor.id : spec.supervisor.id;
}
