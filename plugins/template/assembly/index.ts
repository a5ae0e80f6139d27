// A troupe plugin agent. Each message an actor sends it arrives as {"message": …}; the result
// says what to reply and what to send: {"reply": …, "send": [{"to", "message"}],
// "publish": [{"topic", "message"}]}. Build: deno task plugin build DIR
import { inputJson, outputJson, fail, log, Json } from "troupe";

export function handle(): i32 {
  const input = inputJson();
  if (input === null) return fail("expected JSON input");
  const message = input.get("message");
  if (message === null) return fail("expected {\"message\": …}");
  log("NAME got " + message.toString());
  outputJson(Json.obj().set("reply", Json.obj().setString("hello", "from NAME").set("echo", message)));
  return 0;
}
