import { z } from "zod";
import { type ActorContext, defineActor } from "../../runtime/define_actor.ts";
import { TaskPacket } from "./task_packet.ts";

const TaskMessage = z.object({
  type: z.literal("task"),
  task: TaskPacket,
  deps: z.record(z.string(), z.unknown()),
});

export type TaskHandler = (
  inputs: Record<string, unknown>,
  deps: Record<string, unknown>,
  /** The agent's context: to ask other actors (the LLM gateway), log, publish. */
  ctx: ActorContext<unknown>,
) => unknown;

/** An agent's answer: a task that fails is an outcome to report, not a reason to crash. */
export type TaskReply = { ok: true; output: unknown } | { ok: false; error: string };

/**
 * An agent behaviour: one handler per task kind it can do; the handler's result is the output
 * and what it throws is the failure the orchestrator retries and reports.
 */
export function defineAgent(handlers: Record<string, TaskHandler>) {
  return defineActor({
    messages: TaskMessage,
    async receive(msg, ctx): Promise<TaskReply> {
      const handler = handlers[msg.task.kind];
      if (!handler) {
        const known = Object.keys(handlers).join(", ");
        return {
          ok: false,
          error: `this agent does not do "${msg.task.kind}" tasks (only ${known})`,
        };
      }
      try {
        return { ok: true, output: await handler(msg.task.inputs, msg.deps, ctx) };
      } catch (err) {
        return { ok: false, error: err instanceof Error ? err.message : String(err) };
      }
    },
  });
}
