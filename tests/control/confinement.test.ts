import assert from "node:assert/strict";
import { cp } from "node:fs/promises";
import { join } from "node:path";
import { RunSession } from "../../actors/mod.ts";
import { ControlCall, ControlServer, RefusalAudit } from "../../control/mod.ts";
import { Ledger } from "../../ledger/mod.ts";
import { serverFolders } from "../control_helpers.ts";

const FIXTURES = new URL("../fixtures/repos/", import.meta.url).pathname;
const OPERATOR = "operator-token-0123456789";
const ADMIN = "admin-token-0123456789";

/** A server with tokens whose runs may touch only `tmp/repos`; a planted secret beside it. */
async function withServer(
  fn: (server: ControlServer, tmp: string) => Promise<void>,
  options: { tokens?: boolean } = { tokens: true },
): Promise<void> {
  const tmp = await Deno.makeTempDir({ prefix: "troupe-confine-" });
  try {
    await Deno.mkdir(join(tmp, "repos"));
    await cp(join(FIXTURES, "go_mod"), join(tmp, "repos", "app"), { recursive: true });
    await Deno.writeTextFile(join(tmp, "secret.txt"), "ghp_PLANTED_SECRET_0123456789abcdef");
    const tokens = join(tmp, "tokens.json");
    await Deno.writeTextFile(
      tokens,
      JSON.stringify({
        tokens: [
          { name: "ops", role: "operator", token: OPERATOR },
          { name: "root", role: "admin", token: ADMIN },
        ],
      }),
    );
    await using server = await ControlServer.start({
      ...serverFolders(tmp),
      ...(options.tokens ? { tokens } : {}),
      runs: { repos: [join(tmp, "repos")], outRoot: join(tmp, "runs") },
    });
    await fn(server, tmp);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

const post = (url: string, body: unknown, token: string = OPERATOR, headers = {}) =>
  fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      authorization: `Bearer ${token}`,
      ...headers,
    },
    body: JSON.stringify(body),
  });

/** Expects a refusal with `status` whose message matches; returns the body's text. */
async function refused(res: Response, status: number, message: RegExp): Promise<string> {
  const text = await res.text();
  assert.equal(res.status, status, text);
  assert.match(JSON.parse(text).error.message, message);
  return text;
}

Deno.test("an operator cannot turn a run against the host: no unsandboxed code, no output or repository outside the server's folders, no autonomy above its role's ceiling", () =>
  withServer(async (server, tmp) => {
    const runs = `${server.url}/runs`;
    const app = join(tmp, "repos", "app");
    await refused(await post(runs, { repo: app, unsandboxed: true }), 400, /unsandboxed/);
    await refused(await post(runs, { repo: app, out: "/etc/troupe" }), 400, /out/);
    await refused(await post(runs, { repo: "/etc" }), 403, /not a folder under this server's/);
    await refused(await post(runs, { repo: "../../.." }), 403, /repository roots/);
    // A link inside a root that leads out of it is followed before the check.
    await Deno.symlink("/etc", join(tmp, "repos", "escape"));
    await refused(await post(runs, { repo: "escape" }), 403, /repository roots/);
    await refused(
      await post(runs, { repo: app, apply: true, autonomy: 5 }),
      403,
      /autonomy 5 is above the ceiling of 2 .* operator role/,
    );
    // Within its limits it runs, and writes only below the server's output folder.
    const ok = await post(runs, { repo: "app" });
    assert.equal(ok.status, 202, await ok.clone().text());
    const { runId } = await ok.json();
    await server.runs.settled(runId);
    const view = (await server.runs.view(runId))!;
    assert.equal(view.status, "finished");
    assert.equal(view.settings.autonomy, 2, "an operator's default is its ceiling");
    await Deno.stat(join(tmp, "runs", runId, "report.md"));
    // An admin may go as high as its own ceiling.
    await refused(
      await post(runs, { repo: app, autonomy: 4 }, ADMIN),
      403,
      /ceiling of 3 .* admin role/,
    );
  }));

Deno.test("a request cannot send the server's secrets elsewhere or read its files: providers, policies and packs are chosen by name", () =>
  withServer(async (server, tmp) => {
    // A listener of the caller's choosing must never be called.
    let called = 0;
    await using listener = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, () => {
      called++;
      return new Response("{}");
    });
    const app = join(tmp, "repos", "app");
    const runs = `${server.url}/runs`;
    const providers = [{
      name: "evil",
      kind: "openai",
      baseUrl: `http://127.0.0.1:${listener.addr.port}/v1`,
      apiKeyEnv: "HOME",
      models: ["m"],
    }];
    await refused(await post(runs, { repo: app, llm: { providers } }), 400, /llm/);
    await refused(
      await post(runs, { repo: app, llm: { providers: ["evil"] } }),
      403,
      /no models configured/,
    );
    for (const path of [join(tmp, "secret.txt"), "/etc/hostname", "/dev/zero"]) {
      for (const field of ["policies", "compliance"]) {
        const text = await refused(await post(runs, { repo: app, [field]: [path] }), 400, /name/);
        assert.doesNotMatch(text, /ghp_PLANTED/);
        assert.doesNotMatch(text, new RegExp(Deno.hostname()));
      }
    }
    await refused(
      await post(runs, { repo: app, policies: ["strict"] }),
      403,
      /no policy set named "strict" on this server; it has: none/,
    );
    // Names of files next to the server are not names it knows.
    await refused(
      await post(runs, { repo: app, compliance: ["secret.txt"] }),
      403,
      /no compliance pack named "secret\.txt"/,
    );
    // /ready says the ledger is open, not where it is.
    const ready = await (await fetch(`${server.url}/ready`, {
      headers: { authorization: `Bearer ${OPERATOR}` },
    })).text();
    assert.doesNotMatch(ready, new RegExp(tmp));
    assert.equal(called, 0);
  }));

Deno.test("a server without a tokens file makes its own, kept where only its user can read it, and asks for it", () =>
  withServer(async (server, tmp) => {
    assert.ok(server.token && server.token.length >= 40, "a token of 32 random bytes");
    assert.equal(server.tokenFile, join(tmp, "ledger.duckdb.token"));
    const stat = await Deno.stat(server.tokenFile!);
    assert.equal(stat.mode! & 0o777, 0o600);
    assert.equal((await Deno.readTextFile(server.tokenFile!)).trim(), server.token);
    await refused(await fetch(`${server.url}/runs`), 401, /Authorization: Bearer/);
    await refused(
      await post(`${server.url}/runs/run-x/cancel`, {}, "not-the-token-0123456789"),
      401,
      /Authorization: Bearer/,
    );
    const ok = await fetch(`${server.url}/runs`, {
      headers: { authorization: `Bearer ${server.token}` },
    });
    assert.equal(ok.status, 200);
    await ok.body?.cancel();
    await server.close();
    await assert.rejects(Deno.stat(server.tokenFile!), Deno.errors.NotFound);
  }, { tokens: false }));

Deno.test("a web page cannot drive a loopback server: foreign Host names and cross-site requests are refused, and the page is framed by no one", () =>
  withServer(async (server) => {
    const port = new URL(server.url).port;
    // DNS rebinding: attacker.example resolving to 127.0.0.1 reaches the server with its own Host.
    const rebound = await getWithHost(server.url, "/runs", `attacker.example:${port}`);
    assert.match(rebound, /^HTTP\/1\.1 403/);
    assert.match(rebound, /not to Host \\"attacker\.example/);
    // Its own names pass the check, and then need the token it made.
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`]) {
      assert.match(await getWithHost(server.url, "/runs", host), /^HTTP\/1\.1 401/, host);
    }
    // A simple cross-site POST carries an Origin (or Sec-Fetch-Site) and no token.
    const crossSite: Record<string, string>[] = [
      { origin: "http://evil.example" },
      { origin: "null" },
      { "sec-fetch-site": "cross-site" },
    ];
    for (const headers of crossSite) {
      const res = await fetch(`${server.url}/runs/run-x/cancel`, { method: "POST", headers });
      await refused(res, 403, /from another origin/);
    }
    // The server's own page may (same origin), and so may a client that is not a browser.
    const same = await fetch(`${server.url}/runs/run-x/cancel`, {
      method: "POST",
      headers: {
        origin: server.url,
        "sec-fetch-site": "same-origin",
        authorization: `Bearer ${server.token}`,
      },
    });
    assert.equal(same.status, 409);
    const page = await fetch(`${server.url}/page/index.html`);
    await page.body?.cancel();
    assert.match(page.headers.get("content-security-policy") ?? "", /frame-ancestors 'none'/);
    assert.match(page.headers.get("content-security-policy") ?? "", /script-src 'self'/);
    assert.equal(page.headers.get("x-content-type-options"), "nosniff");
    assert.equal(page.headers.get("x-frame-options"), "DENY");
  }, { tokens: false }));

/** A GET with the Host header a browser sends after DNS rebinding (fetch sets its own). */
async function getWithHost(url: string, path: string, host: string): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(new URL(url).port) });
  try {
    await conn.write(
      new TextEncoder().encode(
        `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
      ),
    );
    let text = "";
    const buf = new Uint8Array(64 * 1024);
    for (let n; (n = await conn.read(buf)) !== null && text.length < 1_000_000;) {
      text += new TextDecoder().decode(buf.subarray(0, n));
    }
    return text;
  } finally {
    conn.close();
  }
}

Deno.test("two resumes of one interrupted run at once start it once: the second is refused", () =>
  withServer(async (server, tmp) => {
    // A run whose start is in the ledger and which nothing runs: as after a server was killed.
    const session = await RunSession.start(server.ledger, {
      repo: join(tmp, "repos", "app"),
      outRoot: join(tmp, "runs"),
    });
    const resume = () =>
      post(`${server.url}/runs/${session.runId}/resume`, {}, OPERATOR).then(async (r) => ({
        status: r.status,
        text: await r.text(),
      }));
    const answers = await Promise.all([resume(), resume()]);
    assert.deepEqual(answers.map((a) => a.status).sort(), [202, 409], JSON.stringify(answers));
    assert.match(answers.find((a) => a.status === 409)!.text, /running already/);
    await server.runs.settled(session.runId);
    const starts = await server.ledger.query(
      `SELECT count(*)::INT AS n FROM events WHERE run_id = '${session.runId}' AND type = 'task_started' AND (payload->>'taskId') = 'scan'`,
    );
    assert.equal(starts.rows[0].n, 1, "the scan ran once");
    assert.equal((await server.runs.view(session.runId))!.status, "finished");
  }));

Deno.test("one reader cannot starve the rest: a slow query has its own connection, answers are capped in bytes, and a token runs two queries at once", () =>
  withServer(async (server) => {
    const sql = (query: string, extra = {}) =>
      post(`${server.url}/ledger/sql`, { query, ...extra });
    // Runs until its 5 s limit stops it.
    const endless = "SELECT count(*) FROM range(1000000000000) a";
    let slowDone = false;
    const slow = sql(endless, { timeoutMs: 5000 }).then(async (r) => {
      slowDone = true;
      return { status: r.status, text: await r.text() };
    });
    const second = sql(endless, { timeoutMs: 5000 });
    // Once both are under way, a third from the same token waits its turn (bounded: 5 s).
    let third = await sql("SELECT 1 AS one");
    for (let i = 0; i < 50 && third.status === 200; i++) {
      await third.body?.cancel();
      await new Promise((r) => setTimeout(r, 100));
      third = await sql("SELECT 1 AS one");
    }
    await refused(third, 429, /at most 2 SQL queries at once per token/);
    // The server's own reads are not queued behind them.
    const list = await fetch(`${server.url}/runs`, {
      headers: { authorization: `Bearer ${OPERATOR}` },
    });
    assert.equal(list.status, 200);
    await list.body?.cancel();
    assert.equal(slowDone, false, "GET /runs answered while the slow query still ran");
    assert.equal((await slow).status, 408);
    assert.equal((await second).status, 408);
    // 400 rows of 1 MB: the answer stops at its byte limit, and says it was cut.
    const big = await sql("SELECT repeat('x', 1000000) AS s FROM range(400)", {
      maxBytes: 3_000_000,
    });
    const text = await big.text();
    assert.equal(big.status, 200);
    assert.ok(text.length < 3_100_000, `${text.length} bytes`);
    const body = JSON.parse(text);
    assert.equal(body.truncated, true);
    assert.equal(body.rows.length, 2);
  }));

Deno.test("a live stream whose client stops reading is dropped, and the ledger says so", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "troupe-stream-" });
  try {
    await using server = await ControlServer.start({
      ...serverFolders(tmp),
      runs: { repos: [tmp] },
      streamBounds: { maxHeldEvents: 50, maxHeldBytes: 1 << 20 },
    });
    const auth = { authorization: `Bearer ${server.token}` };
    const abort = new AbortController();
    const res = await fetch(`${server.url}/events`, { headers: auth, signal: abort.signal });
    assert.equal(res.status, 200);
    // Never read: 400 events of 64 KiB each outgrow every buffer between here and there.
    for (let i = 0; i < 400; i++) {
      await server.ledger.record(ControlCall, {
        actor: "test",
        payload: { method: "X", path: "x".repeat(65536), status: 200, caller: "t", role: "r" },
      });
    }
    let dropped: Record<string, unknown>[] = [];
    for (let i = 0; i < 300 && dropped.length === 0; i++) {
      dropped = (await server.ledger.query(
        "SELECT payload->>'caller' AS caller FROM events WHERE type = 'stream_dropped'",
      )).rows;
      if (dropped.length === 0) await new Promise((r) => setTimeout(r, 50));
    }
    assert.deepEqual(dropped, [{ caller: "local" }]);
    abort.abort();
    await res.body?.cancel().catch(() => {});
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("refusals before the caller is known (401, 413) are in the ledger, at most 60 a minute with the rest counted", async () => {
  await withServer(async (server) => {
    await fetch(`${server.url}/runs`).then((r) => r.body?.cancel());
    await fetch(`${server.url}/runs`, { headers: { authorization: "Bearer nope-0123456789abc" } })
      .then((r) => r.body?.cancel());
    const huge = await post(`${server.url}/ledger/sql`, { query: "x".repeat(2 << 20) });
    assert.equal(huge.status, 413);
    await huge.body?.cancel();
    let rows: Record<string, unknown>[] = [];
    for (let i = 0; i < 100 && rows.length < 3; i++) {
      rows = (await server.ledger.query(
        "SELECT (payload->>'status')::INT AS status, payload->>'reason' AS reason " +
          "FROM events WHERE type = 'control_refused' ORDER BY seq",
      )).rows;
      if (rows.length < 3) await new Promise((r) => setTimeout(r, 20));
    }
    assert.deepEqual(rows, [
      { status: 401, reason: "no token" },
      { status: 401, reason: "unknown token" },
      { status: 413, reason: "body too large" },
    ]);
  });
  await using ledger = await Ledger.open(":memory:");
  let now = 0;
  const audit = new RefusalAudit(ledger, 60, () => now);
  for (let i = 0; i < 65; i++) audit.refused("GET", "/runs", 401, "no token");
  now = 60_000;
  audit.refused("GET", "/runs", 401, "no token");
  await ledger.flush();
  const counted = (await ledger.query(
    "SELECT count(*)::INT AS n, max((payload->>'suppressed')::INT) AS suppressed " +
      "FROM events WHERE type = 'control_refused'",
  )).rows[0];
  assert.deepEqual(counted, { n: 61, suppressed: 5 });
});

Deno.test("a run that an error stops says why, in the ledger and in its view", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "troupe-stopped-" });
  try {
    await cp(join(FIXTURES, "go_mod"), join(tmp, "app"), { recursive: true });
    // The server's output folder is a file: the run cannot write its report.
    await Deno.writeTextFile(join(tmp, "not-a-folder"), "");
    await using server = await ControlServer.start({
      ...serverFolders(tmp),
      runs: { repos: [tmp], outRoot: join(tmp, "not-a-folder") },
    });
    const auth = `Bearer ${server.token}`;
    const res = await post(`${server.url}/runs`, { repo: "app" }, server.token);
    assert.equal(res.status, 202);
    const { runId } = await res.json();
    await server.runs.settled(runId);
    const view = await (await fetch(`${server.url}/runs/${runId}`, {
      headers: { authorization: auth },
    })).json();
    assert.equal(view.status, "interrupted");
    assert.match(view.stopped.reason, /not-a-folder/);
    const rows = (await server.ledger.query(
      `SELECT payload->>'reason' AS reason FROM events WHERE type = 'run_stopped' AND run_id = '${runId}'`,
    )).rows;
    assert.equal(rows.length, 1);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("a fork over HTTP reuses its parent's history and stays within the server's limits, whatever the parent was allowed", () =>
  withServer(async (server, tmp) => {
    // A parent run started on this machine with more than a remote caller may ask: unsandboxed,
    // applying, writing outside the server's output folder.
    const parent = await (await RunSession.start(server.ledger, {
      repo: join(tmp, "repos", "app"),
      out: join(tmp, "local-out"),
      unsandboxed: true,
      apply: true,
      autonomy: 5,
    })).run();
    const forks = `${server.url}/runs/${parent.runId}/fork`;
    await refused(await post(forks, { at: "generate_ci", autonomy: 5 }), 403, /ceiling of 2/);
    await refused(await post(forks, { at: "review", policies: ["nope"] }), 403, /no policy set/);
    await refused(await post(forks, { at: "x", out: "/etc" }), 400, /out/);
    await refused(
      await post(`${server.url}/runs/run-nope/fork`, { at: "scan" }),
      404,
      /no run "run-nope"/,
    );
    await refused(await post(forks, { at: "nope" }), 400, /never started a task "nope"/);
    const ok = await post(forks, { at: "generate_ci", goal: "propose CI again" });
    assert.equal(ok.status, 202, await ok.clone().text());
    const { runId } = await ok.json();
    await server.runs.settled(runId);
    const view = (await server.runs.view(runId))!;
    assert.equal(view.status, "finished");
    const s = view.settings as Record<string, unknown>;
    assert.deepEqual(
      [s.unsandboxed, s.apply, s.autonomy, s.goal],
      [false, false, 2, "propose CI again"],
    );
    assert.match(String(s.out), new RegExp(`^${join(tmp, "runs")}/`));
    assert.deepEqual((s.forkOf as { runId: string }).runId, parent.runId);
    const diff = await (await fetch(`${server.url}/runs/${parent.runId}/diff/${runId}`, {
      headers: { authorization: `Bearer ${OPERATOR}` },
    })).json();
    const scan = diff.tasks.find((t: { taskId: string }) => t.taskId === "scan");
    assert.equal(scan.change, "same");
    assert.equal(scan.b.forkedFrom, parent.runId);
  }));
