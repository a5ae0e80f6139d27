import { defineActor } from "../runtime/define_actor.ts";

/** Answers `"ok"`, or crashes on `"crash"`: the worker actor the restart benchmark kills. */
export default defineActor<string>({
  receive(msg) {
    if (msg === "crash") throw new Error("crashing on purpose");
    return "ok";
  },
});
