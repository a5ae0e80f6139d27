import { z } from "zod";
import { defineActor } from "../../runtime/define_actor.ts";

/** Demo: asks its peer `rounds` times and reports the replies. */
export default defineActor({
  messages: z.object({
    type: z.literal("start"),
    peer: z.string(),
    rounds: z.number().int().min(1).max(100),
  }),
  async receive(msg, ctx) {
    const replies: string[] = [];
    for (let i = 1; i <= msg.rounds; i++) {
      replies.push(await ctx.ask<string>(msg.peer, { type: "ping", n: i }, { timeoutMs: 2000 }));
    }
    ctx.publish("demo.progress", { type: "done", by: ctx.self, replies: replies.length });
    return replies;
  },
});
