import assert from "node:assert/strict";
import http from "node:http";
import { join } from "node:path";
import { ControlServer } from "../../control/mod.ts";
import { cliArgs } from "../cli_helpers.ts";
import { serverFolders } from "../control_helpers.ts";

const MODULES = new URL("../../node_modules/@modelcontextprotocol/", import.meta.url).pathname;
/** The protocol's own suite: the scenarios that hold for any server (the rest call its tools). */
const SCENARIOS = [
  "server-initialize",
  "ping",
  "tools-list",
  "resources-list",
  "prompts-list",
  "dns-rebinding-protection",
];

const decode = (b: Uint8Array) => new TextDecoder().decode(b);

/** The MCP Inspector's CLI against `deno task mcp` on stdio: one method. */
async function inspect(tmp: string, ...method: string[]): Promise<unknown> {
  const out = await new Deno.Command("node", {
    args: [
      "index.js",
      Deno.execPath(),
      ...cliArgs([
        "mcp",
        "--ledger",
        join(tmp, "ledger.duckdb"),
        "--repos",
        tmp,
        "--plugins",
        join(tmp, "plugins"),
      ]),
      ...method,
    ],
    // It finds its own package.json relative to the working folder.
    cwd: join(MODULES, "inspector-cli", "build"),
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, decode(out.stderr));
  return JSON.parse(decode(out.stdout));
}

Deno.test("the MCP Inspector's CLI lists troupe's tools, resources and prompts on stdio and calls every tool", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "troupe-inspector-" });
  try {
    const { tools } = await inspect(tmp, "--method", "tools/list") as {
      tools: { name: string; inputSchema: { type: string } }[];
    };
    assert.equal(tools.length, 11);
    assert.ok(tools.every((t) => t.inputSchema.type === "object"));
    // Every tool, called with arguments the inspector passes as key=value: each answers (an
    // error result is an answer: no such run, no such plugin, no such approval).
    const calls: Record<string, string[]> = {
      list_runs: [],
      list_actors: [],
      list_approvals: [],
      query_ledger: ["query=SELECT count(*) AS n FROM events"],
      start_run: [`repo=${tmp}`, "goal=assess"],
      follow_run: ["runId=run-none", "timeoutSeconds=1"],
      get_report: ["runId=run-none"],
      cancel_run: ["runId=run-none"],
      resume_run: ["runId=run-none"],
      cast_vote: ["approvalId=apr-none", 'signed={"vote":{},"signature":"x"}'],
      call_plugin: ["name=none", "function=run"],
    };
    assert.deepEqual(Object.keys(calls).sort(), tools.map((t) => t.name).sort());
    for (const [name, args] of Object.entries(calls)) {
      const r = await inspect(
        tmp,
        "--method",
        "tools/call",
        "--tool-name",
        name,
        ...(args.length ? ["--tool-arg", ...args] : []),
      ) as { content: { text: string }[]; isError?: boolean };
      assert.ok(r.content[0].text.length > 0, name);
      if (
        ["list_runs", "list_actors", "list_approvals", "query_ledger", "start_run"].includes(name)
      ) {
        assert.equal(r.isError, undefined, `${name}: ${r.content[0].text}`);
      } else assert.equal(r.isError, true, `${name}: ${r.content[0].text}`);
    }
    const { resources } = await inspect(tmp, "--method", "resources/list") as {
      resources: { uri: string }[];
    };
    assert.ok(resources.some((r) => r.uri === "troupe://views/run_tasks"));
    const { prompts } = await inspect(tmp, "--method", "prompts/list") as {
      prompts: { name: string }[];
    };
    assert.equal(prompts.length, 2);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("the MCP conformance suite's server scenarios that apply to any server pass against /mcp", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "troupe-conformance-" });
  let server: ControlServer | undefined;
  // The suite's client sends no token: a proxy on 127.0.0.1 adds it, and forwards the Host
  // header as it came (node:http, as fetch would set its own), so the server's guard sees it.
  const proxy = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const target = new URL(server!.url);
    const url = new URL(req.url);
    const headers = {
      ...Object.fromEntries(req.headers),
      authorization: `Bearer ${server!.token}`,
    };
    const body = req.body ? new Uint8Array(await req.arrayBuffer()) : undefined;
    return await new Promise<Response>((resolve, reject) => {
      const out = http.request({
        host: target.hostname,
        port: Number(target.port),
        path: url.pathname + url.search,
        method: req.method,
        headers,
      }, (res) => {
        const stream = new ReadableStream({
          start(c) {
            res.on("data", (d: Uint8Array) => c.enqueue(new Uint8Array(d)));
            res.on("end", () => c.close());
            res.on("error", (e) => c.error(e));
          },
        });
        const h = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h.set(k, String(v));
        const empty = res.statusCode === 202 || res.statusCode === 204;
        resolve(new Response(empty ? null : stream, { status: res.statusCode, headers: h }));
      });
      out.on("error", reject);
      if (body) out.write(body);
      out.end();
    });
  });
  try {
    const port = proxy.addr.port;
    server = await ControlServer.start({
      ...serverFolders(tmp),
      runs: { repos: [tmp] },
      allowedHosts: [`127.0.0.1:${port}`, `localhost:${port}`],
    });
    for (const scenario of SCENARIOS) {
      // The suite needs Node 22's fs.globSync: it runs on Deno's Node compatibility here.
      const out = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          join(MODULES, "conformance", "dist", "index.js"),
          "server",
          "--url",
          `http://127.0.0.1:${port}/mcp`,
          "--scenario",
          scenario,
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const printed = decode(out.stdout);
      assert.equal(out.code, 0, `${scenario}: ${printed}${decode(out.stderr)}`);
      assert.match(printed, /Passed: (\d+)\/\1, 0 failed/, `${scenario}: ${printed}`);
    }
  } finally {
    await proxy.shutdown();
    await server?.close();
    await Deno.remove(tmp, { recursive: true });
  }
});
