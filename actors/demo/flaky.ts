import { z } from "zod";
import { defineActor } from "../../runtime/define_actor.ts";

/** Demo: does work, but fails on the job it was told is bad; its supervisor restarts it. */
export default defineActor({
  messages: z.object({ type: z.literal("job"), id: z.number(), bad: z.boolean().default(false) }),
  init: () => ({ done: 0 }),
  receive(msg, ctx) {
    if (msg.bad) throw new Error(`job ${msg.id} is malformed`);
    ctx.state.done++;
    return ctx.state.done;
  },
});
