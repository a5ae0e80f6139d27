import assert from "node:assert/strict";
import { join } from "node:path";
import { Ledger } from "../../ledger/mod.ts";
import { cli, writeFiles } from "../cli_helpers.ts";
import { DeployBench, freePort, writeService } from "./deploy_helpers.ts";

Deno.test("run --deploy: the orchestrator plans a deploy task after the review; an approved repository goes live behind nginx, one whose tests fail is not deployed and the live release keeps serving", async () => {
  const dir = await Deno.makeTempDir({ prefix: "troupe-rundeploy-" });
  const bench = new DeployBench(dir, freePort());
  const app = join(dir, "app");
  const run = (out: string, more: string[] = []) =>
    cli([
      "run",
      "--repo",
      app,
      "--out",
      join(dir, out),
      "--ledger",
      bench.ledger,
      "--autonomy",
      "4",
      "--deploy",
      "staging",
      "--deploy-root",
      bench.root,
      "--deploy-port",
      String(bench.port),
      "--json",
      ...more,
    ]);
  try {
    await writeService(app, { version: "v1" });
    const first = await run("first");
    assert.equal(first.code, 0, first.stderr);
    assert.equal(await bench.served(), "v1");
    const report = await Deno.readTextFile(join(dir, "first", "report.md"));
    const runId = JSON.parse(await Deno.readTextFile(join(dir, "first", "report.json"))).runId;
    assert.match(
      report,
      /^## Deployed\n\nRelease \S+ is live on staging at http:\/\/127\.0\.0\.1:/m,
    );
    assert.match(report, /t\d+\["deploy"\]:::succeeded/, "the task graph shows the deploy task");

    // v2's own test fails: the review blocks it, and nothing is deployed.
    await writeService(app, { version: "v2" });
    await writeFiles(app, {
      "test/app.test.js": 'require("node:test")("v2", () => { throw new Error("broken"); });\n',
    });
    const pkg = JSON.parse(await Deno.readTextFile(join(app, "package.json")));
    pkg.scripts.test = "node --test";
    await Deno.writeTextFile(join(app, "package.json"), JSON.stringify(pkg));
    const second = await run("second", ["--run-tests"]);
    assert.equal(second.code, 1, "a run whose deploy did not happen fails");
    const secondReport = await Deno.readTextFile(join(dir, "second", "report.md"));
    assert.match(secondReport, /deploy.*not deployed: the review's verdict is block/);
    assert.doesNotMatch(secondReport, /## Deployed/);
    assert.equal(await bench.served(), "v1", "the live release kept serving");

    // The deploy's steps are the first run's own events, in order.
    const ledger = await Ledger.open(bench.ledger, { readOnly: true });
    try {
      const { rows } = await ledger.query(
        `SELECT type FROM events WHERE run_id = '${runId}' AND actor = 'deployer' ` +
          "AND (type LIKE 'deploy%' OR type LIKE 'release%') ORDER BY seq",
      );
      const steps = rows.map((r) => r.type);
      assert.deepEqual(
        [steps[0], ...steps.slice(-2)],
        ["deploy_started", "release_checked", "release_live"],
      );
      assert.ok(steps.includes("release_switched"), steps.join(", "));
    } finally {
      await ledger.close();
    }
  } finally {
    await bench.deploy(["--env", "staging", "--stop"]);
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
