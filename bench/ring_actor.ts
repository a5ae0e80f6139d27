import { defineActor } from "../runtime/define_actor.ts";

/**
 * A worker actor in a ring (Savina's thread ring; ping-pong is a ring of two): passes a token to
 * the next actor, one fewer each time, and tells `sink` when it reaches 0. Its state is the next
 * actor's id, given as its args.
 */
export default defineActor<number, string>({
  init: (args) => String(args),
  receive(token, ctx) {
    if (token === 0) ctx.tell("sink", 0);
    else ctx.tell(ctx.state, token - 1);
  },
});
