import assert from "node:assert/strict";
import { cli } from "../cli_helpers.ts";

Deno.test("deno task demo --json: the demo team talks, one actor crashes and is restarted", async () => {
  const { code, stdout, stderr } = await cli(["demo", "--json", "--rounds", "2"]);
  assert.equal(code, 0, stderr);
  const { summary, events } = JSON.parse(stdout);
  assert.deepEqual(summary.replies, ["pong 1", "pong 2"]);
  assert.equal(summary.crashed, 1);
  assert.equal(summary.restarted, 1);
  assert.equal(summary.flakyJobsSinceRestart, 1, "the restarted actor starts from fresh state");
  const spawnedFlaky = events.filter((e: { type: string; actor: string }) =>
    e.type === "spawned" && e.actor === "flaky"
  );
  assert.deepEqual(spawnedFlaky.map((e: { incarnation: number }) => e.incarnation), [1, 2]);
});

Deno.test("deno task demo: --help explains, a bad flag is an error that names it", async () => {
  const help = await cli(["demo", "--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Usage: deno task demo/);
  const bad = await cli(["demo", "--rounds", "zero"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--rounds must be a whole number/);
  const unknown = await cli(["demo", "--frobnicate"]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /frobnicate/);
  const top = await cli(["nonsense"]);
  assert.equal(top.code, 2);
  assert.match(top.stderr, /unknown command "nonsense"/);
});
