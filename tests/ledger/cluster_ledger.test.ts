import assert from "node:assert/strict";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { connect } from "@nats-io/transport-node";
import { jetstream } from "@nats-io/jetstream";
import { Ledger } from "../../ledger/mod.ts";
import { LedgerShipper, ledgerStream } from "../../ledger/ledger_shipper.ts";
import { projectCluster } from "../../ledger/cluster_projection.ts";
import { natsServer } from "../nats_server.ts";

async function appendSome(ledger: Ledger, n: number, runId: string): Promise<void> {
  await Promise.all(
    Array.from(
      { length: n },
      (_, i) => ledger.append({ runId, actor: "worker", type: "step", payload: { i } }),
    ),
  );
  await ledger.flush();
}

async function count(file: string, sql: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(file, { access_mode: "READ_ONLY" });
  const conn = await instance.connect();
  try {
    return (await conn.runAndReadAll(sql)).getRowObjectsJS();
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

Deno.test("each node's ledger is shipped to JetStream and projected into one DuckDB for SQL: complete, each node's chain verified, a node that was offline catches up with no gap or duplicate, a forged event is caught", async () => {
  await using nats = await natsServer();
  const dir = await Deno.makeTempDir({ prefix: "troupe-cluster-ledger-" });
  const nc = await connect({ servers: nats.url });
  const l1 = await Ledger.open(join(dir, "n1.duckdb"));
  const l2 = await Ledger.open(join(dir, "n2.duckdb"));
  const into = join(dir, "cluster.duckdb");
  try {
    await appendSome(l1, 30, "run-a");
    await appendSome(l2, 1_200, "run-b"); // more than one message's worth
    let s1 = await LedgerShipper.start(l1, nc, { cluster: "t", node: "n1" });
    const s2 = await LedgerShipper.start(l2, nc, { cluster: "t", node: "n2" });
    assert.equal(await s1.caughtUp(), true, s1.lastError);
    assert.equal(await s2.caughtUp(), true, s2.lastError);

    const first = await projectCluster(nc, { cluster: "t", into });
    assert.equal(first.added, 1_230);
    assert.deepEqual(
      first.nodes.map((c) => `${c.node}:${c.events}:${c.headSeq}:${c.problem ?? "ok"}`).sort(),
      ["n1:30:30:ok", "n2:1200:1200:ok"],
    );

    // n1 goes offline (its shipper stops), keeps working, and comes back.
    await s1.stop();
    await appendSome(l1, 50, "run-a");
    assert.equal((await projectCluster(nc, { cluster: "t", into })).added, 0);
    s1 = await LedgerShipper.start(l1, nc, { cluster: "t", node: "n1" });
    assert.equal(await s1.caughtUp(), true, s1.lastError);
    await appendSome(l1, 5, "run-c"); // and live events after the catch-up
    assert.equal(await s1.caughtUp(), true, s1.lastError);

    // A batch sent twice (as after a lost acknowledgement, under another message id).
    const again = [];
    for await (const row of l1.rows({ fromSeq: 10 })) if (again.length < 5) again.push(row);
    await jetstream(nc).publish(ledgerStream("t").subject("n1"), JSON.stringify(again));
    // A forged event from a node that never existed: its hash does not match.
    const forged = { ...again[0], seq: 1, prevHash: "0".repeat(64), hash: "f".repeat(64) };
    await jetstream(nc).publish(ledgerStream("t").subject("n9"), JSON.stringify([forged]));

    const second = await projectCluster(nc, { cluster: "t", into });
    assert.equal(second.added, 55);
    assert.equal(second.duplicates, 5);
    const chains = Object.fromEntries(second.nodes.map((c) => [c.node, c]));
    assert.equal(chains.n1.events, 85);
    assert.equal(chains.n1.headHash, l1.head.hash);
    assert.equal(chains.n1.problem, undefined);
    assert.match(chains.n9.problem ?? "", /event 1 of node n9 does not match its hash/);

    // One SQL over the whole cluster: every event once, the views work on it.
    const rows = await count(
      into,
      "SELECT node, count(*) AS n, count(DISTINCT seq) AS seqs, max(seq) AS head FROM events GROUP BY node ORDER BY node",
    );
    assert.deepEqual(
      rows.map((r) => `${r.node}:${r.n}:${r.seqs}:${r.head}`),
      ["n1:85:85:85", "n2:1200:1200:1200"],
    );
    const runs = await count(into, "SELECT count(DISTINCT run_id) AS runs FROM events");
    assert.equal(Number(runs[0].runs), 3);
    await s1.stop();
    await s2.stop();
  } finally {
    await l1.close();
    await l2.close();
    await nc.close();
    await Deno.remove(dir, { recursive: true });
  }
});
