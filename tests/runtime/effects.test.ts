import assert from "node:assert/strict";
import { EffectDivergence, EffectLog, fed, pinned, withEffects } from "../../runtime/mod.ts";

/** A handler that reads the clock and a file at once, then runs a "process". */
async function handler(calls: string[], file: string): Promise<string> {
  const [now, text] = await Promise.all([
    // The slower call is asked for first: its place in the log is where it was asked.
    fed("clock", "now", async () => {
      calls.push("clock");
      await new Promise((r) => setTimeout(r, 20));
      return 1234;
    }),
    pinned("fs.read", file, () => {
      calls.push("read");
      return Deno.readTextFile(file);
    }),
  ]);
  const code = await fed("process", "make test", () => {
    calls.push("process");
    return 0;
  });
  return `${now} ${text.trim()} ${code}`;
}

Deno.test("an effect log records outside calls in the order they were asked, and a replay answers them without calling out, rereading only pinned files", async () => {
  const file = await Deno.makeTempFile();
  try {
    await Deno.writeTextFile(file, "hello\n");
    const calls: string[] = [];
    const log = new EffectLog();
    assert.equal(await withEffects(log, () => handler(calls, file)), "1234 hello 0");
    assert.deepEqual(log.effects.map((e) => `${e.kind} ${e.key}`), [
      "clock now",
      `fs.read ${file}`,
      "process make test",
    ]);
    // A pinned read keeps the digest, not the text.
    assert.match(String(log.effects[1].value), /^[0-9a-f]{64}$/);

    const replayed: string[] = [];
    const replay = new EffectLog(log.effects);
    assert.equal(await withEffects(replay, () => handler(replayed, file)), "1234 hello 0");
    assert.deepEqual(replayed, ["read"], "only the pinned read was done again");
    assert.deepEqual(replay.effects, log.effects);

    // The file changed: the replay stops at that read, naming it.
    await Deno.writeTextFile(file, "bye\n");
    const changed = new EffectLog(log.effects);
    await assert.rejects(
      withEffects(changed, () => handler([], file)),
      (err) =>
        err instanceof EffectDivergence && err.index === 1 && /other bytes/.test(err.message),
    );
    // Other code asks for something else at a place: the replay stops there.
    const other = new EffectLog(log.effects);
    await assert.rejects(
      withEffects(other, () => fed("random", "uuid", () => "x")),
      /at effect 0 the code asked for random uuid, but the recording has clock now there/,
    );
    // Outside a message, calls are simply made.
    assert.equal(await fed("clock", "now", () => 7), 7);
  } finally {
    await Deno.remove(file);
  }
});
