import { z } from "zod";
import { defineActor } from "../../runtime/define_actor.ts";
import { TaskPacket } from "./task_packet.ts";

const TaskMessage = z.object({
  type: z.literal("task"),
  task: TaskPacket,
  deps: z.record(z.string(), z.unknown()),
});

export type TaskHandler = (
  inputs: Record<string, unknown>,
  deps: Record<string, unknown>,
) => unknown;

/** An agent behaviour: one handler per task kind it can do; the handler's result is the output. */
export function defineAgent(handlers: Record<string, TaskHandler>) {
  return defineActor({
    messages: TaskMessage,
    async receive(msg) {
      const handler = handlers[msg.task.kind];
      if (!handler) {
        throw new Error(
          `this agent does not do "${msg.task.kind}" tasks (it does ${
            Object.keys(handlers).join(", ")
          })`,
        );
      }
      return await handler(msg.task.inputs, msg.deps);
    },
  });
}
