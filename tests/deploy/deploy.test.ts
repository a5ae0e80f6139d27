import assert from "node:assert/strict";
import { join } from "node:path";
import { Ledger } from "../../ledger/mod.ts";
import { cliArgs } from "../cli_helpers.ts";
import {
  DeployBench,
  freePort,
  releaseRuns,
  steadyClient,
  writeService,
} from "./deploy_helpers.ts";

/** Fast timings for a test (a user's defaults are longer). */
const QUICK = ["--autonomy", "4", "--watch-ms", "2500", "--check-tries", "40"];
const released = (stdout: string) =>
  JSON.parse(stdout) as {
    status: string;
    releaseId: string;
    live: string | null;
    reason?: string;
  };

Deno.test("deploy: blue-green behind nginx; a release failing its health check is never switched to, one crashing after the switch is rolled back, and a client of the proxy sees no failed request", async () => {
  const dir = await Deno.makeTempDir({ prefix: "troupe-deploy-" });
  const bench = new DeployBench(dir, freePort());
  const app = join(dir, "app");
  let client: ReturnType<typeof steadyClient> | undefined;
  try {
    const v1 = await bench.first(app, QUICK);
    assert.equal(v1.status, "live");
    assert.equal(await bench.served(), "v1");
    client = steadyClient(`http://127.0.0.1:${bench.port}/`);

    // v2 has a build script: it runs in the release's folder before the release starts.
    await writeService(app, { version: "v2", built: true });
    const second = await bench.deploy(["--repo", app, ...QUICK, "--json"]);
    assert.equal(second.code, 0, second.stderr);
    const v2 = released(second.stdout);
    assert.equal(v2.live, v2.releaseId);
    assert.equal(await bench.served(), "built-v2");
    assert.ok(
      !await releaseRuns(v1.releaseId),
      "the release before is stopped once the new one held",
    );

    // Its /health answers 500: checked, refused, never routed to.
    await writeService(app, { version: "bad", health: 500 });
    const bad = await bench.deploy(["--repo", app, ...QUICK, "--json"]);
    assert.equal(bad.code, 1, bad.stderr);
    const refused = released(bad.stdout);
    assert.equal(refused.status, "refused");
    assert.match(refused.reason!, /health check failed: GET \/health answered 500/);
    assert.equal(refused.live, v2.releaseId);
    assert.ok(!await releaseRuns(refused.releaseId));

    // It throws as it starts: refused as soon as it has ended, saying what it said as it died.
    await writeService(app, { version: "throws", throws: "DATABASE_URL is not set" });
    const dead = await bench.deploy(["--repo", app, ...QUICK, "--json"]);
    assert.equal(dead.code, 1, dead.stderr);
    const died = released(dead.stdout);
    assert.equal(died.status, "refused");
    assert.match(
      died.reason!,
      /^it exited before answering its health check \(Error: DATABASE_URL is not set\) \(its output: .*\.log\)$/,
    );
    assert.equal(died.live, v2.releaseId);

    // Healthy when checked, then it crashes while watched: the proxy goes back to v2.
    await writeService(app, { version: "crashes", crashAfterMs: 1200 });
    const crash = await bench.deploy(["--repo", app, ...QUICK, "--json"]);
    assert.equal(crash.code, 1, crash.stderr);
    const rolled = released(crash.stdout);
    assert.equal(rolled.status, "rolled_back");
    assert.match(
      rolled.reason!,
      /failed its watch after the switch: its process ended|answered nothing/,
    );
    assert.equal(rolled.live, v2.releaseId);
    assert.equal(await bench.served(), "built-v2");

    // By hand: back to the release before the live one.
    const back = await bench.deploy(["--rollback", ...QUICK, "--json"]);
    assert.equal(back.code, 0, back.stderr);
    assert.equal(released(back.stdout).live, v1.releaseId);
    assert.equal(await bench.served(), "v1");
    assert.ok(!await releaseRuns(v2.releaseId));

    const seen = await client.stop();
    client = undefined;
    assert.deepEqual(seen.failed, [], `failed requests at the proxy: ${seen.failed.slice(0, 5)}`);
    assert.ok(seen.ok > 50, `the client kept asking (${seen.ok} answers)`);

    // The whole story is in the ledger, by release.
    const ledger = await Ledger.open(bench.ledger, { readOnly: true });
    try {
      const steps = async (id: string) =>
        (await ledger.query(
          `SELECT list(type ORDER BY seq) AS types FROM events WHERE run_id = 'deploy-${id}'`,
        )).rows[0].types as string[];
      assert.deepEqual(
        await steps(v2.releaseId),
        [
          "deploy_started",
          "policy_decision",
          "release_built",
          "release_started",
          "release_checked",
          "release_switched",
          "release_checked",
          "release_live",
        ].filter((t) => t !== "policy_decision"),
      );
      const badSteps = await steps(refused.releaseId);
      assert.ok(badSteps.includes("deploy_refused") && !badSteps.includes("release_switched"));
      const check = await ledger.query(
        `SELECT payload->>'exited' AS exited, (payload->>'tries')::INT AS tries FROM events ` +
          `WHERE run_id = 'deploy-${died.releaseId}' AND type = 'release_checked'`,
      );
      assert.equal(check.rows[0].exited, "true");
      assert.ok(Number(check.rows[0].tries) < 40, "not checked the 40 times a slow start gets");
      const crashSteps = await steps(rolled.releaseId);
      assert.deepEqual(crashSteps.slice(-3), [
        "release_switched",
        "release_checked",
        "release_rolled_back",
      ]);
    } finally {
      await ledger.close();
    }
  } finally {
    await client?.stop();
    await bench.deploy(["--stop"]);
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

Deno.test("deploy: killed with SIGKILL after the switch, deploy --resume leaves exactly one release serving", async () => {
  const dir = await Deno.makeTempDir({ prefix: "troupe-deploy-resume-" });
  const bench = new DeployBench(dir, freePort());
  const app = join(dir, "app");
  try {
    const v1 = await bench.first(app, QUICK);

    await writeService(app, { version: "v2" });
    const child = new Deno.Command(Deno.execPath(), {
      args: cliArgs(bench.args(["--repo", app, "--autonomy", "4", "--watch-ms", "60000"])),
      stdout: "null",
      stderr: "piped",
    }).spawn();
    // Killed while it watches the new release: both releases run, the proxy routes to the new.
    const lines = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
    let seen = "";
    while (!/switched staging to (\S+); watching it/.test(seen)) {
      const { value, done } = await lines.read();
      if (done) throw new Error(`deploy ended before switching:\n${seen}`);
      seen += value;
    }
    child.kill("SIGKILL");
    await child.status;
    await lines.cancel().catch(() => {});
    const v2 = seen.match(/switched staging to (\S+);/)![1];
    assert.ok(
      await releaseRuns(v1.releaseId) && await releaseRuns(v2),
      "both ran when it was killed",
    );

    const unfinished = await bench.deploy(["--repo", app, ...QUICK]);
    assert.equal(unfinished.code, 1);
    assert.match(unfinished.stderr, /did not finish .*run deploy --resume first/);

    const resumed = await bench.deploy(["--resume", ...QUICK, "--json"]);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.equal(released(resumed.stdout).live, v2);
    assert.equal(await bench.served(), "v2");
    assert.ok(
      await releaseRuns(v2) && !await releaseRuns(v1.releaseId),
      "exactly one release serves",
    );
  } finally {
    await bench.deploy(["--stop"]);
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

Deno.test("deploy: policy decides deploy.ENV first; a denied or unapproved deploy builds and starts nothing", async () => {
  const dir = await Deno.makeTempDir({ prefix: "troupe-deploy-policy-" });
  const bench = new DeployBench(dir, freePort());
  const app = await writeService(join(dir, "app"), { version: "v1" });
  try {
    const deny = join(dir, "deny.yaml");
    await Deno.writeTextFile(
      deny,
      "name: no-staging\nrules:\n  - id: no-staging\n    match: { action: deploy.staging }\n    effect: deny\n",
    );
    const denied = await bench.deploy([
      "--repo",
      app,
      "--port",
      String(bench.port),
      ...QUICK,
      "--policy",
      deny,
      "--json",
    ]);
    assert.equal(denied.code, 1, denied.stderr);
    assert.match(released(denied.stdout).reason!, /policy denied deploy\.staging/);

    // Production needs two signatures at every level; nobody signs, and the request expires.
    const short = join(dir, "short.yaml");
    await Deno.writeTextFile(
      short,
      "name: short\nrules:\n  - id: deploy-production\n    match: { action: deploy.production }\n" +
        "    effect: require_approval\n    approval: { roles: [approver], threshold: 2, expiresInMs: 400 }\n",
    );
    const unsigned = await bench.deploy([
      "--repo",
      app,
      "--env",
      "production",
      "--port",
      String(freePort()),
      "--autonomy",
      "5",
      "--policy",
      short,
      "--approvals",
      join(dir, "inbox"),
      "--keys",
      join(dir, "keys"),
      "--json",
    ]);
    assert.equal(unsigned.code, 1, unsigned.stderr);
    assert.match(unsigned.stderr, /approval apr-\S+ needed \(2 of approver\) to deploy release/);
    assert.match(released(unsigned.stdout).reason!, /approval apr-\S+ expired/);
    for (const env of ["staging", "production"]) {
      const releases = join(bench.root, env, "releases");
      const built = await Array.fromAsync(Deno.readDir(releases)).catch(() => []);
      assert.deepEqual(built, [], `nothing built for ${env}`);
    }
  } finally {
    await bench.deploy(["--stop"]);
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
