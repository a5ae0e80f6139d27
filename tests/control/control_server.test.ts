import assert from "node:assert/strict";
import { cp } from "node:fs/promises";
import { dirname, join } from "node:path";
import { EventSourceParserStream } from "eventsource-parser/stream";
import parsePrometheus from "parse-prometheus-text-format";
import { ControlServer, type RunView } from "../../control/mod.ts";
import { cli } from "../cli_helpers.ts";
import { watFixture } from "../plugin_helpers.ts";
import { serverFolders } from "../control_helpers.ts";

const FIXTURES = new URL("../fixtures/repos/", import.meta.url).pathname;
const TEAM_TASKS = [
  "scan",
  "detect",
  "assess",
  "plan_repairs",
  "generate_ci",
  "write_docs",
  "review",
];

interface Streamed {
  id: string;
  event: string;
  data: { seq: number; type: string; runId: string | null; actor: string; payload: unknown };
}

/** The token of the server a test runs, when it made its own (no tokens file). */
let ownToken: string | undefined;

/**
 * `fetch` with the token a server without a tokens file made for itself, unless the request
 * names its own Authorization (the tests of tokens and roles do).
 */
function fetch(input: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (ownToken && !headers.has("authorization")) headers.set("authorization", `Bearer ${ownToken}`);
  return globalThis.fetch(input, { ...init, headers });
}

/** Runs `fn` with a server on a fresh ledger file in a temp folder; everything is removed. */
async function withServer(
  fn: (server: ControlServer, tmp: string) => Promise<void>,
  options: { tokens?: unknown } = {},
): Promise<void> {
  const tmp = await Deno.makeTempDir({ prefix: "troupe-serve-" });
  try {
    let tokens: string | undefined;
    if (options.tokens) {
      tokens = join(tmp, "tokens.json");
      await Deno.writeTextFile(tokens, JSON.stringify(options.tokens));
    }
    await using server = await ControlServer.start({
      ...serverFolders(tmp),
      ...(tokens ? { tokens } : {}),
      runs: { repos: [FIXTURES, tmp], outRoot: join(tmp, "out") },
    });
    ownToken = server.token;
    await fn(server, tmp);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

/** Reads an event stream until `until` says stop (or the stream ends); closes it after. */
async function readEvents(
  url: string,
  until: (e: Streamed, all: Streamed[]) => boolean,
  headers: Record<string, string> = {},
): Promise<Streamed[]> {
  const abort = new AbortController();
  const res = await fetch(url, { headers, signal: abort.signal });
  assert.equal(res.status, 200, await (res.ok ? "" : res.text()));
  assert.match(res.headers.get("content-type") ?? "", /text\/event-stream/);
  const seen: Streamed[] = [];
  const stream = res.body!.pipeThrough(new TextDecoderStream()).pipeThrough(
    new EventSourceParserStream(),
  );
  try {
    for await (const m of stream) {
      const e = { id: m.id ?? "", event: m.event ?? "", data: JSON.parse(m.data) };
      seen.push(e);
      if (until(e, seen)) break;
    }
  } finally {
    abort.abort();
  }
  return seen;
}

const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });

Deno.test("a run submitted over HTTP runs as the CLI's does: live task events, its DAG with each task's state, the call in the ledger", () =>
  withServer(async (server, tmp) => {
    const res = await post(`${server.url}/runs`, {
      repo: join(FIXTURES, "go_mod"),
      goal: "assess this repository and propose hardening",
    });
    assert.equal(res.status, 202);
    const { runId } = await res.json();
    assert.match(runId, /^run-/);
    const events = await readEvents(
      `${server.url}/events?run=${runId}&mode=tasks&after=0`,
      (e) => e.event === "run_finished",
    );
    // Ids are the ledger's seqs, increasing; the feed holds only this run's task-level events.
    const seqs = events.map((e) => Number(e.id));
    assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b));
    assert.ok(events.every((e) => e.data.runId === runId));
    assert.deepEqual(events.map((e) => e.event).filter((t) => !t.startsWith("task_")), [
      "run_started",
      "run_planned",
      "run_finished",
    ]);
    assert.deepEqual(
      events.filter((e) => e.event === "task_succeeded").map((e) =>
        (e.data.payload as { taskId: string }).taskId
      ).sort(),
      [...TEAM_TASKS].sort(),
    );

    const view = await (await fetch(`${server.url}/runs/${runId}`)).json() as RunView;
    assert.equal(view.status, "finished");
    assert.deepEqual(view.tasks.map((t) => t.id), TEAM_TASKS);
    assert.ok(view.tasks.every((t) => t.state === "succeeded" && t.attempts === 1 && t.agent));
    // The plan's edges, as the offline planner makes them.
    assert.deepEqual(view.tasks.find((t) => t.id === "review")!.dependsOn, [
      "scan",
      "assess",
      "generate_ci",
      "write_docs",
    ]);
    await Deno.stat(join(tmp, "out", runId, "report.md"));
    const list = await (await fetch(`${server.url}/runs`)).json();
    assert.deepEqual(list.map((r: { runId: string }) => r.runId), [runId]);
    // A run lined up with itself: every task and file the same.
    const same = await (await fetch(`${server.url}/runs/${runId}/diff/${runId}`)).json();
    assert.deepEqual(
      same.tasks.map((t: { change: string }) => t.change),
      TEAM_TASKS.map(() => "same"),
    );
    assert.ok(
      same.files.length > 0 && same.files.every((f: { change: string }) => f.change === "same"),
    );

    const sql = await post(`${server.url}/ledger/sql`, {
      query: "SELECT payload->>'method' AS m, payload->>'path' AS p, " +
        "payload->>'status' AS s, payload->>'caller' AS caller, payload->>'role' AS role " +
        "FROM events WHERE type = 'control_call' ORDER BY seq",
    });
    assert.equal(sql.status, 200);
    assert.deepEqual((await sql.json()).rows, [
      { m: "POST", p: "/runs", s: "202", caller: "local", role: "admin" },
    ]);
  }));

Deno.test("a client that reconnects with Last-Event-ID misses nothing and gets nothing twice", () =>
  withServer(async (server) => {
    const ledger = server.ledger;
    for (let i = 1; i <= 5; i++) await ledger.append({ actor: "a", type: "note", payload: { i } });
    const first = await readEvents(`${server.url}/events?after=0`, (_e, all) => all.length === 3);
    assert.deepEqual(first.map((e) => e.id), ["1", "2", "3"]);
    // While the client is away, more is written.
    for (let i = 6; i <= 8; i++) await ledger.append({ actor: "a", type: "note", payload: { i } });
    const writer = (async () => {
      // …and more once it is back: the live part of the stream.
      for (let i = 9; i <= 12; i++) {
        await new Promise((r) => setTimeout(r, 20));
        await ledger.append({ actor: i % 2 ? "a" : "b", type: "note", payload: { i } });
      }
    })();
    const second = await readEvents(
      `${server.url}/events`,
      (e) => e.id === "12",
      { "last-event-id": first.at(-1)!.id },
    );
    await writer;
    assert.deepEqual(
      [...first, ...second].map((e) => Number(e.id)),
      Array.from({ length: 12 }, (_, i) => i + 1),
    );
    // Filters apply to the past and to the live part alike.
    const onlyB = await readEvents(
      `${server.url}/events?actor=b&after=0`,
      (_e, all) => all.length === 2,
    );
    assert.deepEqual(onlyB.map((e) => e.id), ["10", "12"]);
  }));

const TOKENS = {
  tokens: [
    { name: "ci", role: "admin", token: "admin-token-0123456789" },
    { name: "watcher", role: "viewer", token: "viewer-token-0123456789" },
    {
      name: "hashed",
      role: "operator",
      // sha256("operator-token-0123456789")
      sha256: await (async () => {
        const d = await crypto.subtle.digest(
          "SHA-256",
          new TextEncoder().encode("operator-token-0123456789"),
        );
        return Array.from(new Uint8Array(d), (b) => b.toString(16).padStart(2, "0")).join("");
      })(),
    },
  ],
};
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

Deno.test("with tokens, every route but /health needs one, and the role decides what it may do", () =>
  withServer(async (server) => {
    assert.equal((await fetch(`${server.url}/health`)).status, 200);
    const none = await fetch(`${server.url}/runs`);
    assert.equal(none.status, 401);
    assert.match((await none.json()).error.message, /Authorization: Bearer/);
    assert.equal(
      (await fetch(`${server.url}/runs`, { headers: bearer("wrong-token-0123456789") })).status,
      401,
    );
    assert.equal(
      (await fetch(`${server.url}/runs`, { headers: bearer("viewer-token-0123456789") })).status,
      200,
    );
    const body = { repo: join(FIXTURES, "go_mod"), goal: "audit it" };
    const viewer = await post(`${server.url}/runs`, body, bearer("viewer-token-0123456789"));
    assert.equal(viewer.status, 403);
    assert.match(
      (await viewer.json()).error.message,
      /"watcher" has role viewer, which may not operate/,
    );
    const operator = await post(`${server.url}/runs`, body, bearer("operator-token-0123456789"));
    assert.equal(operator.status, 202);
    const { runId } = await operator.json();
    await server.runs.settled(runId);
    const calls = await post(`${server.url}/ledger/sql`, {
      query: "SELECT payload->>'caller' AS caller, payload->>'role' AS role, " +
        "payload->>'status' AS status FROM events WHERE type = 'control_call' ORDER BY seq",
    }, bearer("admin-token-0123456789"));
    // The refused call is recorded too, with who made it; the admin's own query is a POST too.
    assert.deepEqual((await calls.json()).rows.slice(0, 2), [
      { caller: "watcher", role: "viewer", status: "403" },
      { caller: "hashed", role: "operator", status: "202" },
    ]);
  }, { tokens: TOKENS }));

Deno.test("a server refuses to listen beyond loopback without tokens, and a bad tokens file names what is wrong", async () => {
  await assert.rejects(
    ControlServer.start({ port: 0, host: "0.0.0.0", ledger: ":memory:" }),
    /serving on 0\.0\.0\.0 without --tokens would let anyone drive troupe/,
  );
  const dir = await Deno.makeTempDir();
  try {
    const file = join(dir, "tokens.json");
    await Deno.writeTextFile(
      file,
      JSON.stringify({ tokens: [{ name: "x", role: "king", token: "short" }] }),
    );
    await assert.rejects(
      ControlServer.start({ port: 0, ledger: ":memory:", tokens: file }),
      (e: Error) =>
        /tokens\.json: invalid tokens file/.test(e.message) && /tokens\.0\.role/.test(e.message) &&
        /at least 16 characters/.test(e.message),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bad input gets a 4xx JSON error naming what was wrong, and the server keeps serving", () =>
  withServer(async (server) => {
    const cases: [string, Response, number, RegExp][] = [
      ["not JSON", await post(`${server.url}/runs`, "{bad"), 400, /not valid JSON/],
      [
        "wrong types",
        await post(`${server.url}/runs`, { repo: 5, autonomy: 9, colour: "red" }),
        400,
        /repo: .*expected string.*autonomy: .*<=5/,
      ],
      [
        "too large",
        await post(`${server.url}/ledger/sql`, { query: "x".repeat(2 * 1024 * 1024) }),
        413,
        /larger than 1048576 bytes/,
      ],
      ["unknown route", await fetch(`${server.url}/nope`), 404, /no route GET \/nope/],
      ["unknown run", await fetch(`${server.url}/runs/run-nope`), 404, /no run "run-nope"/],
      [
        "a diff with an unknown run",
        await fetch(`${server.url}/runs/run-nope/diff/run-nah`),
        404,
        /no run "run-nope"/,
      ],
      [
        "a write in SQL",
        await post(`${server.url}/ledger/sql`, { query: "DELETE FROM events" }),
        400,
        /only SELECT queries/,
      ],
      [
        "a repository that is not there",
        await post(`${server.url}/runs`, { repo: "/nowhere/at/all" }),
        403,
        /not a folder under this server's repository roots/,
      ],
      [
        "cancel a run it does not run",
        await post(`${server.url}/runs/run-nope/cancel`, {}),
        409,
        /not running on this server/,
      ],
    ];
    for (const [what, res, status, message] of cases) {
      assert.equal(res.status, status, what);
      const body = await res.json();
      assert.match(body.error.message, message, what);
      assert.equal(typeof body.error.code, "string", what);
    }
    assert.equal((await fetch(`${server.url}/health`)).status, 200);
    const doc = await (await fetch(`${server.url}/openapi.json`)).json();
    assert.equal(doc.openapi, "3.1.0");
    for (const path of ["/runs", "/runs/{id}", "/events", "/ledger/sql", "/approvals"]) {
      assert.ok(doc.paths[path], `${path} is described`);
    }
  }));

Deno.test("one writer per ledger: a second server and deno task run are told who has it; run --server sends the run there", () =>
  withServer(async (server, tmp) => {
    const ledger = join(tmp, "ledger.duckdb");
    await assert.rejects(
      ControlServer.start({ port: 0, ledger }),
      new RegExp(`already served by ${server.url.replaceAll(".", "\\.")}`),
    );
    const repo = join(tmp, "repo");
    await cp(join(FIXTURES, "go_mod"), repo, { recursive: true });
    const refused = await cli(["run", "--repo", repo, "--ledger", ledger]);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      new RegExp(`served by ${server.url}.*--server ${server.url}`, "s"),
    );
    const sent = await cli([
      "run",
      "--repo",
      repo,
      // The server's own token is found beside the ledger it serves.
      "--ledger",
      ledger,
      "--server",
      server.url,
    ]);
    assert.equal(sent.code, 0, sent.stderr);
    assert.match(sent.stdout, /run run-\S+: finished; 7 tasks, 0 failed/);
    assert.match(sent.stderr, /\[7\/7 done, 0 failed, 0 skipped/);
  }));

Deno.test("actors over HTTP: spawn from a template, list with load, the supervision tree, ask, tell and stop", () =>
  withServer(async (server) => {
    const repo = join(FIXTURES, "go_mod");
    const made = await post(`${server.url}/actors`, { template: "scanner", id: "scout", repo });
    assert.equal(made.status, 201);
    assert.equal(
      (await post(`${server.url}/actors`, { template: "scanner", id: "scout", repo })).status,
      409,
    );
    const unknown = await post(`${server.url}/actors`, { template: "wizard", id: "w", repo });
    assert.equal(unknown.status, 404);
    assert.match((await unknown.json()).error.message, /no template "wizard"; templates: scanner/);

    const asked = await post(`${server.url}/actors/scout/ask`, {
      message: {
        type: "task",
        task: { id: "s1", kind: "scan", capability: "repo.scan", inputs: { repo } },
        deps: {},
      },
      timeoutMs: 30_000,
    });
    assert.equal(asked.status, 200);
    const { reply } = await asked.json();
    assert.equal(reply.ok, true);
    assert.deepEqual(
      reply.output.files.map((f: { path: string }) => f.path).sort(),
      ["LICENSE", "README.md", "go.mod", "main.go", "main_test.go"],
    );
    const refused = await post(`${server.url}/actors/scout/ask`, { message: { type: "nonsense" } });
    assert.equal(refused.status, 422);
    assert.match((await refused.json()).error.message, /"scout".*invalid message/);
    const told = await post(`${server.url}/actors/ghost/tell`, { message: { type: "x" } });
    assert.deepEqual(await told.json(), { delivered: false });

    const actors = await (await fetch(`${server.url}/actors`)).json();
    const scout = actors.find((a: { id: string }) => a.id === "scout");
    assert.deepEqual(
      { ...scout, busyMs: 0 },
      {
        id: "scout",
        capabilities: ["repo.scan"],
        status: "running",
        supervisor: "root",
        mailbox: 0,
        processed: 2,
        busyMs: 0,
        restarts: 0,
      },
    );
    const tree = await (await fetch(`${server.url}/actors/tree`)).json();
    assert.deepEqual(tree, {
      id: "root",
      kind: "supervisor",
      children: [{ id: "scout", kind: "actor" }],
    });

    const stop = await fetch(`${server.url}/actors/scout`, { method: "DELETE" });
    assert.equal(stop.status, 200);
    assert.equal((await fetch(`${server.url}/actors/scout`, { method: "DELETE" })).status, 404);
    assert.deepEqual(await (await fetch(`${server.url}/actors`)).json(), []);
  }));

Deno.test("/metrics is Prometheus text a real parser reads: task outcomes, durations and ledger figures of a run", () =>
  withServer(async (server) => {
    const res = await post(`${server.url}/runs`, { repo: join(FIXTURES, "go_mod") });
    const { runId } = await res.json();
    await server.runs.settled(runId);
    const scrape = await fetch(`${server.url}/metrics`);
    assert.equal(scrape.status, 200);
    assert.match(scrape.headers.get("content-type") ?? "", /text\/plain/);
    const families = parsePrometheus(await scrape.text()) as {
      name: string;
      type: string;
      metrics: { value?: string; count?: string; labels?: Record<string, string> }[];
    }[];
    const family = (name: string) => families.find((f) => f.name === name)!;
    const outcomes = family("troupe_task_outcomes_total");
    assert.equal(outcomes.type, "COUNTER");
    assert.deepEqual(
      outcomes.metrics.map((m) => `${m.labels!.kind}:${m.labels!.outcome}=${m.value}`).sort(),
      TEAM_TASKS.map((t) => `${t}:succeeded=1`).sort(),
    );
    const durations = family("troupe_task_duration_seconds");
    assert.equal(durations.type, "HISTOGRAM");
    assert.equal(Number(durations.metrics[0].count), TEAM_TASKS.length);
    assert.equal(Number(family("troupe_ledger_head_seq").metrics[0].value), server.ledger.head.seq);
    assert.ok(Number(family("troupe_ledger_events_total").metrics[0].value) > 20);
    assert.equal(family("troupe_actor_restarts_total").type, "COUNTER");
    assert.equal(family("troupe_llm_cost_usd_total").type, "COUNTER");
  }));

Deno.test("plugins over HTTP: uploaded with their manifest checked, listed, called in a sandbox; failures are 422 with their kind", () =>
  withServer(async (server) => {
    const b64 = async (name: string) => btoa(String.fromCharCode(...await watFixture(name)));
    const up = (manifest: unknown, wasm: string) =>
      post(`${server.url}/plugins`, { manifest, wasm });
    let res = await up(
      { name: "reverse", wasm: "x.wasm", exports: ["reverse"] },
      await b64("reverse.wat"),
    );
    assert.equal(res.status, 201, await res.clone().text());
    const stored = await res.json();
    assert.match(stored.sha256, /^[0-9a-f]{64}$/);
    res = await up({ name: "exit", wasm: "x.wasm" }, await b64("exit_code.wat"));
    assert.equal(res.status, 201);

    const refused: [unknown, string, RegExp][] = [
      [
        { name: "Bad Name!", wasm: "x" },
        await b64("reverse.wat"),
        /invalid plugin manifest.*name/s,
      ],
      [{ name: "r2", wasm: "x", sha256: "0".repeat(64) }, await b64("reverse.wat"), /expects 0000/],
      [{ name: "missiles", wasm: "x" }, await b64("launch_missiles.wat"), /import/],
      [{ name: "junk", wasm: "x" }, btoa("not wasm at all"), /wasm/i],
    ];
    for (const [manifest, wasm, message] of refused) {
      const r = await up(manifest, wasm);
      assert.equal(r.status, 422, JSON.stringify(manifest));
      assert.match((await r.json()).error.message, message);
    }
    const list = await (await fetch(`${server.url}/plugins`)).json();
    assert.deepEqual(list.map((p: { name: string }) => p.name), ["exit", "reverse"]);

    const call = (name: string, body: unknown) => post(`${server.url}/plugins/${name}/call`, body);
    res = await call("reverse", { function: "reverse", input: "stressed" });
    assert.equal(res.status, 200);
    assert.equal((await res.json()).output, "desserts");
    res = await call("exit", { function: "status", input: "*" });
    assert.equal(res.status, 422);
    const failed = await res.json();
    assert.equal(failed.error.code, "plugin_error");
    assert.match(failed.error.message, /status returned 42/);
    res = await call("nope", { function: "x" });
    assert.equal(res.status, 422);
    assert.match((await res.json()).error.message, /no plugin "nope"/);
  }));

Deno.test("a run outlives the client that follows it, unless that client asked for cancel-on-disconnect", () =>
  withServer(async (server, tmp) => {
    const repo = join(tmp, "repo");
    await cp(join(FIXTURES, "node_app"), repo, { recursive: true });
    // The project's tests wait while `slow` exists (bounded to 60 s).
    const pkg = JSON.parse(await Deno.readTextFile(join(repo, "package.json")));
    pkg.scripts.test = "i=0; while [ -f slow ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done";
    await Deno.writeTextFile(join(repo, "package.json"), JSON.stringify(pkg, null, 2));
    await Deno.writeTextFile(join(repo, "slow"), "");
    const start = async () => {
      const res = await post(`${server.url}/runs`, { repo, runTests: true });
      return (await res.json()).runId as string;
    };
    const testStarted = (e: Streamed) =>
      e.event === "task_started" && (e.data.payload as { taskId: string }).taskId === "test";

    // A plain follower leaves: the run goes on to its end.
    const kept = await start();
    await readEvents(`${server.url}/events?run=${kept}&after=0`, testStarted);
    // One that asked for it leaves: its run is cancelled between tasks.
    const dropped = await start();
    await readEvents(
      `${server.url}/events?run=${dropped}&after=0&cancel_on_disconnect=true`,
      testStarted,
    );
    const requests = async () => {
      const r = await post(`${server.url}/ledger/sql`, {
        query:
          "SELECT run_id, payload->>'reason' AS reason FROM events WHERE type = 'run_cancel_requested'",
      });
      return (await r.json()).rows as { run_id: string; reason: string }[];
    };
    let cancels: { run_id: string; reason: string }[] = [];
    for (let i = 0; i < 200 && cancels.length === 0; i++) {
      cancels = await requests();
      if (cancels.length === 0) await new Promise((r) => setTimeout(r, 50));
    }
    assert.deepEqual(cancels.map((c) => c.run_id), [dropped]);
    assert.match(cancels[0].reason, /the client following it \(local\) disconnected/);
    // The tests run in copies of the repository, in the runs' scratch folders (the sandbox lets
    // them see nothing else): the waiting ends when `slow` is gone from those copies.
    const tmpRoot = dirname(tmp);
    for await (const e of Deno.readDir(tmpRoot)) {
      if (!e.name.startsWith("troupe-scratch-")) continue;
      await Deno.remove(join(tmpRoot, e.name, "run-tests", "slow")).catch(() => {});
    }
    await server.runs.settled(kept);
    await server.runs.settled(dropped);
    assert.equal((await server.runs.view(kept))!.status, "finished");
    const view = (await server.runs.view(dropped))!;
    assert.equal(view.status, "cancelled");
    assert.match(view.finished!.cancelled!, /disconnected/);
    assert.equal(view.tasks.find((t) => t.id === "test")!.state, "succeeded");
    // Asking for it needs a run and the right to cancel.
    const bad = await fetch(`${server.url}/events?cancel_on_disconnect=true`);
    assert.equal(bad.status, 400);
  }));
