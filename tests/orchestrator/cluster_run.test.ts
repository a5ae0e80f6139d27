import assert from "node:assert/strict";
import { join } from "node:path";
import { RunSession } from "../../actors/mod.ts";
import { Ledger } from "../../ledger/mod.ts";
import { natsServer, projectLedger, startNode } from "../nats_server.ts";

/** A node project whose one test takes a few seconds: a node dies while it runs. */
async function slowRepo(root: string): Promise<string> {
  const repo = join(root, "repo");
  await Deno.mkdir(join(repo, "test"), { recursive: true });
  await Deno.writeTextFile(
    join(repo, "package.json"),
    JSON.stringify({ name: "slow", version: "1.0.0", scripts: { test: "node --test" } }),
  );
  await Deno.writeTextFile(
    join(repo, "test", "slow.test.js"),
    'import test from "node:test";\n' +
      'test("takes its time", async () => { await new Promise((r) => setTimeout(r, 6000)); });\n',
  );
  return repo;
}

Deno.test("a run spread over three nodes survives one node's SIGKILL: its task goes to another node, every task ends once, and the cluster's ledger verifies", async () => {
  await using nats = await natsServer();
  const dir = await Deno.makeTempDir({ prefix: "troupe-cluster-run-" });
  const nodes = {
    n2: (await startNode(nats.url, "n2", dir, "repo-ops")).child,
    n3: (await startNode(nats.url, "n3", dir, "repo-ops")).child,
  };
  const ledger = await Ledger.open(join(dir, "run.duckdb"));
  let killed: string | undefined;
  try {
    const repo = await slowRepo(dir);
    // The moment the tests start on a node, that node is killed.
    const stop = ledger.onCommit((rows) => {
      for (const r of rows) {
        if (killed || r.type !== "task_started" || !r.payload.includes('"kind":"test"')) continue;
        const on = Object.keys(nodes).find((n) => r.actor.includes(`.${n}.`));
        if (!on) continue;
        killed = on;
        nodes[on as keyof typeof nodes].kill("SIGKILL");
      }
    });
    const session = await RunSession.start(ledger, {
      repo,
      out: join(dir, "out"),
      runTests: true,
    }, { cluster: { servers: [nats.url], localAgents: false } });
    const result = await session.run();
    stop();
    assert.ok(killed, "the tests ran on a remote node, which was killed");
    assert.deepEqual(result.outcome.dead, []);

    const tasks = await ledger.select(
      `SELECT type, actor, json_extract_string(payload, '$.taskId') AS task FROM events
         WHERE run_id = $run AND type IN ('task_started', 'task_succeeded', 'task_failed', 'task_dead')
         ORDER BY seq`,
      { run: result.runId },
    );
    // Every task succeeded once, on an agent of n2 or n3 (none ran here).
    const succeeded = tasks.filter((t) => t.type === "task_succeeded");
    assert.deepEqual(
      succeeded.map((t) => t.task).sort(),
      [...new Set(tasks.map((t) => String(t.task)))].sort(),
    );
    for (const t of succeeded) assert.match(String(t.actor), /\.n[23]\./);
    assert.ok(succeeded.some((t) => String(t.actor).includes(".n2.")), "n2 took tasks");
    assert.ok(succeeded.some((t) => String(t.actor).includes(".n3.")), "n3 took tasks");
    // The test task: lost with the killed node, then done on the other one.
    const test = tasks.filter((t) => t.task === "test").map((t) => `${t.type}@${t.actor}`);
    assert.equal(test.length, 4, test.join(", "));
    assert.match(test[1], new RegExp(`^task_failed@.*\\.${killed}\\.`));
    assert.doesNotMatch(test[3], new RegExp(`\\.${killed}\\.`));
    assert.match(test[3], /^task_succeeded@/);
    const [failure] = await ledger.select(
      `SELECT json_extract_string(payload, '$.cause') AS cause FROM events
         WHERE run_id = $run AND type = 'task_failed'`,
      { run: result.runId },
    );
    assert.match(String(failure.cause), new RegExp(`node ${killed} is down`));
    const tests = result.report.tests ?? [];
    assert.ok(
      tests.length > 0 && tests.every((t) => t.verdict === "passed"),
      JSON.stringify(tests),
    );

    // The node left stops; the cluster's ledger holds every node's events, each chain verified.
    const other = killed === "n2" ? "n3" : "n2";
    nodes[other].kill("SIGTERM");
    await nodes[other].status;
    const projected = await projectLedger(nats.url, join(dir, "cluster.duckdb"));
    assert.equal(projected.code, 0, projected.output);
    const chains = projected.nodes;
    assert.deepEqual(chains.filter((c) => c.problem), []);
    assert.deepEqual(
      chains.map((c) => c.node.replace(/^ledger-.*/, "the run's ledger")).sort(),
      ["n2", "n3", "the run's ledger"],
    );
  } finally {
    await ledger.close();
    for (const child of Object.values(nodes)) {
      try {
        child.kill("SIGTERM");
      } catch { /* gone */ }
      await child.status;
    }
    await Deno.remove(dir, { recursive: true });
  }
});
