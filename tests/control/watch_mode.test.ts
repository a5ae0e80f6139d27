import assert from "node:assert/strict";
import { cp } from "node:fs/promises";
import { join } from "node:path";
import { ControlServer, relevantChange } from "../../control/mod.ts";
import { FakeClock } from "../../runtime/mod.ts";
import { eventually } from "../helpers.ts";
import { serverFolders } from "../control_helpers.ts";

Deno.test("watch mode: a change to the repository starts an assessment run once it has been quiet for the debounce", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "troupe-watch-" });
  try {
    const repo = join(tmp, "repo");
    await cp(new URL("../fixtures/repos/go_mod", import.meta.url).pathname, repo, {
      recursive: true,
    });
    await Deno.mkdir(join(repo, ".git"));
    const clock = new FakeClock();
    await using server = await ControlServer.start({
      ...serverFolders(tmp),
      watch: { repo, debounceMs: 2000, clock, out: join(tmp, "out") },
    });
    const watcher = server.watcher!;

    await Deno.writeTextFile(join(repo, "main.go"), "package main\n\nfunc main() {}\n");
    await eventually(() => watcher.pending > 0, 10_000, "the change to be seen");
    await clock.tick(1999);
    assert.deepEqual(watcher.started, [], "not before the quiet period has passed");
    await clock.tick(1);
    await eventually(() => watcher.started.length === 1, 10_000, "a run to start");
    const runId = watcher.started[0];
    await server.runs.settled(runId);
    const view = await server.runs.view(runId);
    assert.equal(view!.status, "finished");
    assert.equal(view!.settings.repo, repo);
    assert.match(view!.settings.goal, /^assess this repository/);
    // An assessment: no generated changes in the plan.
    assert.ok(!view!.tasks.some((t) => t.id === "generate_ci"));
    await Deno.stat(join(tmp, "out", "report.md"));
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("watch mode counts changes to the project, not to version control, outputs or dependencies", () => {
  const repo = "/w/app";
  const yes = ["/w/app/main.go", "/w/app/src/a.ts", "/w/app/.github/workflows/ci.yml"];
  const no = [
    "/w/app",
    "/w/other/main.go",
    "/w/app/.git/HEAD",
    "/w/app/.troupe/runs/r/report.md",
    "/w/app/node_modules/x/index.js",
    "/w/app/target/debug/app",
    "/w/app/reports/report.md",
  ];
  for (const p of yes) assert.equal(relevantChange(repo, p, "/w/app/reports"), true, p);
  for (const p of no) assert.equal(relevantChange(repo, p, "/w/app/reports"), false, p);
});
