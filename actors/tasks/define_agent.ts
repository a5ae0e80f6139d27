import { z } from "zod";
import { type ActorContext, defineActor } from "../../runtime/define_actor.ts";
import { Effect, EffectLog, withEffects } from "../../runtime/effects.ts";
import { inAgentSpan } from "./run_trace.ts";
import { TaskPacket } from "./task_packet.ts";

const TaskMessage = z.object({
  type: z.literal("task"),
  task: TaskPacket,
  deps: z.record(z.string(), z.unknown()),
  replay: z.array(Effect).optional(),
  /** The run and the `task_started` event this message follows (for its trace span). */
  started: z.object({ runId: z.string(), seq: z.number().int() }).optional(),
});

/** A kind of task: the capability an agent needs to take it, and the inputs it reads. */
export interface TaskKindSpec {
  capability: string;
  inputs: z.ZodType<Record<string, unknown>>;
}
/** The kinds of task a team does, by name (the repo-ops team's are `TASK_KINDS`). */
export type TaskKinds = Record<string, TaskKindSpec>;

/** Does one kind of task: its result is the output, what it throws is the failure. */
export type TaskHandler<S extends TaskKindSpec> = (
  inputs: z.output<S["inputs"]>,
  deps: Record<string, unknown>,
  /** The agent's context: to ask other actors (the LLM gateway), log, publish. */
  ctx: ActorContext<unknown>,
) => unknown;

/**
 * An agent's answer: a task that fails is an outcome to report, not a reason to crash. `effects`
 * are what the handler learnt from outside, in order (see `runtime/effects.ts`).
 */
export type TaskReply =
  & ({ ok: true; output: unknown } | { ok: false; error: string })
  & { effects?: Effect[] };

/**
 * An agent behaviour, and where its module is: one handler per kind of `kinds` it does (each
 * gets that kind's inputs, checked against its schema first), and the module's own URL, which a
 * team template loads in the agent's worker or process. The orchestrator retries and reports
 * what a handler throws.
 */
export function defineAgent<T extends TaskKinds, K extends keyof T & string>(
  module: string,
  kinds: T,
  handlers: { [k in K]: TaskHandler<T[k]> },
) {
  const behaviour = defineActor({
    messages: TaskMessage,
    receive(msg, ctx): Promise<TaskReply> {
      return inAgentSpan(ctx.self, msg.task, msg.started, () => handle(msg, ctx));
    },
  });
  async function handle(
    msg: z.output<typeof TaskMessage>,
    ctx: ActorContext<unknown>,
  ): Promise<TaskReply> {
    const kind = msg.task.kind as K;
    const handler = Object.hasOwn(handlers, kind) ? handlers[kind] : undefined;
    if (!handler) {
      const known = Object.keys(handlers).join(", ");
      return {
        ok: false,
        error: `this agent does not do "${msg.task.kind}" tasks (only ${known})`,
      };
    }
    const inputs = kinds[kind].inputs.safeParse(msg.task.inputs);
    if (!inputs.success) {
      const issues = inputs.error.issues.map((i) =>
        `${i.path.join(".") || "inputs"}: ${i.message}`
      );
      return { ok: false, error: `task "${msg.task.id}" has bad inputs: ${issues.join("; ")}` };
    }
    // Every outside call the handler makes goes through this log: recorded, or with `replay`
    // answered from the recording.
    const log = new EffectLog(msg.replay);
    const checked = inputs.data as z.output<T[K]["inputs"]>;
    try {
      const output = await withEffects(log, async () => await handler(checked, msg.deps, ctx));
      return { ok: true, output, effects: log.effects };
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      return { ok: false, error, effects: log.effects };
    }
  }
  const capabilities = [...new Set(Object.keys(handlers).map((k) => kinds[k].capability))];
  return Object.assign(behaviour, { module, capabilities });
}

/** An agent as `defineAgent` makes it: a team template binds the module, not a path string. */
export interface Agent {
  /** The module's URL, loaded in the agent's worker or process. */
  module: string;
  /** The capabilities of the kinds it has handlers for. */
  capabilities: string[];
}
