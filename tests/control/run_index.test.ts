import assert from "node:assert/strict";
import { join } from "node:path";
import { ControlServer, type RunView, viewRun } from "../../control/mod.ts";
import { serverFolders } from "../control_helpers.ts";

const FIXTURES = new URL("../fixtures/repos/", import.meta.url).pathname;

/** Starts a server on `tmp`'s ledger, runs one run to its end, and hands both to `fn`. */
async function withRun(
  tmp: string,
  fn: (server: ControlServer, runId: string) => Promise<void>,
): Promise<void> {
  await using server = await ControlServer.start({
    ...serverFolders(tmp),
    runs: { repos: [FIXTURES], outRoot: join(tmp, "out") },
  });
  const headers = { authorization: `Bearer ${server.token}`, "content-type": "application/json" };
  const res = await fetch(`${server.url}/runs`, {
    method: "POST",
    headers,
    body: JSON.stringify({ repo: join(FIXTURES, "go_mod") }),
  });
  assert.equal(res.status, 202);
  const { runId } = await res.json();
  await server.runs.settled(runId);
  await fn(server, runId);
}

const get = async (server: ControlServer, path: string) =>
  await (await fetch(`${server.url}${path}`, {
    headers: { authorization: `Bearer ${server.token}` },
  })).json();

Deno.test("GET /runs and /runs/{id} are what the ledger says, for runs before the server started and after: the views it keeps from commits equal a read of the ledger", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "troupe-index-" });
  try {
    let first = "";
    await withRun(tmp, (_server, runId) => {
      first = runId;
      return Promise.resolve();
    });
    // A second server on the same ledger: the first run is in the past, the second is live.
    await withRun(tmp, async (server, second) => {
      const list = await get(server, "/runs") as Omit<RunView, "tasks">[];
      assert.deepEqual(list.map((r) => [r.runId, r.status]), [
        [second, "finished"],
        [first, "finished"],
      ]);
      assert.deepEqual(list.map((r) => "tasks" in r), [false, false]);
      for (const runId of [first, second]) {
        const served = await get(server, `/runs/${runId}`) as RunView;
        const read = await viewRun(server.ledger, runId, false);
        assert.deepEqual(served, JSON.parse(JSON.stringify(read)), runId);
        assert.ok(served.tasks.length >= 7 && served.tasks.every((t) => t.state === "succeeded"));
        const { tasks: _, ...line } = served;
        assert.deepEqual(list.find((r) => r.runId === runId), line);
      }
      assert.deepEqual(await get(server, "/runs?limit=1").then((l) => l.length), 1);
    });
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
