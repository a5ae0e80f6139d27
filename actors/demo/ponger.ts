import { z } from "zod";
import { defineActor } from "../../runtime/define_actor.ts";

/** Demo: answers pings. */
export default defineActor({
  messages: z.object({ type: z.literal("ping"), n: z.number() }),
  receive: (msg) => `pong ${msg.n}`,
});
