import assert from "node:assert/strict";
import { ChaosReport } from "../../chaos/chaos_suite.ts";
import { cli } from "../cli_helpers.ts";

// The suite kills agents in real runs and tries hostile inputs on the real parts; a failing seed
// repeats its faults. Nothing here is timed: the runs take as long as the machine needs.
Deno.test("deno task chaos --json: over 50 faults in real runs and 100 hostile inputs, no event is lost and nothing escapes", async () => {
  const r = await cli(["chaos", "--json", "--seed", "20261126"]);
  const report = ChaosReport.parse(JSON.parse(r.stdout));
  assert.deepEqual(report.problems, [], r.stderr);
  assert.equal(r.code, 0);
  assert.equal(report.events_lost, 0);
  assert.ok(report.cores_busy_after < 0.35, `${report.cores_busy_after} cores busy after`);
  assert.equal(report.escapes, 0);
  assert.ok(report.faults_injected >= 50, `${report.faults_injected} faults`);
  assert.ok(report.inputs_tried >= 100, `${report.inputs_tried} inputs`);
  assert.ok(report.runs >= 4 && report.tasks_completed > 0);
  assert.equal(report.seed, 20261126);
  assert.ok(report.events_written > 0);
});

Deno.test("deno task chaos refuses bad flags with what to do", async () => {
  const r = await cli(["chaos", "--faults", "none"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--faults must be a whole number of at least 1, got "none"/);
  const help = await cli(["chaos", "--help"]);
  assert.match(help.stdout, /Usage: deno task chaos \[--faults N\] \[--soak MINUTES\]/);
});
