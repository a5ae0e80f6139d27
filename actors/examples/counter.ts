import { z } from "zod";
import { defineActor } from "../../runtime/define_actor.ts";

/** A minimal stateful actor: add to a number, read it back. */
export default defineActor({
  messages: z.discriminatedUnion("type", [
    z.object({ type: z.literal("add"), n: z.number() }),
    z.object({ type: z.literal("get") }),
  ]),
  init: (args) => (typeof args === "number" ? args : 0),
  receive(msg, ctx) {
    if (msg.type === "add") ctx.state += msg.n;
    return ctx.state;
  },
});
