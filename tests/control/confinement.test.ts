import assert from "node:assert/strict";
import { cp } from "node:fs/promises";
import { join } from "node:path";
import { ControlServer } from "../../control/mod.ts";

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
      port: 0,
      ledger: join(tmp, "ledger.duckdb"),
      keys: join(tmp, "keys"),
      approvals: join(tmp, "approvals"),
      plugins: join(tmp, "plugins"),
      ...(options.tokens ? { tokens } : {}),
      runs: { repos: [join(tmp, "repos")], outRoot: join(tmp, "runs") },
    });
    await fn(server, tmp);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

const post = (url: string, body: unknown, token = OPERATOR, headers = {}) =>
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

Deno.test("a web page cannot drive a loopback server without a token: foreign Host names and cross-site requests are refused, and the page is framed by no one", () =>
  withServer(async (server) => {
    const port = new URL(server.url).port;
    // DNS rebinding: attacker.example resolving to 127.0.0.1 reaches the server with its own Host.
    const rebound = await getWithHost(server.url, "/runs", `attacker.example:${port}`);
    assert.match(rebound, /^HTTP\/1\.1 403/);
    assert.match(rebound, /not to Host \\"attacker\.example/);
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`]) {
      assert.match(await getWithHost(server.url, "/runs", host), /^HTTP\/1\.1 200/, host);
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
      headers: { origin: server.url, "sec-fetch-site": "same-origin" },
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
