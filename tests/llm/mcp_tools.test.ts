import assert from "node:assert/strict";
import { join } from "node:path";
import { z } from "zod";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import { RunSession, verifyRun } from "../../actors/mod.ts";
import { McpServers } from "../../actors/agents/kit/mcp_servers.ts";
import { McpServerConfig } from "../../actors/llm/llm_config.ts";
import { brokenAdder } from "../adder_repo.ts";
import { fakeOpenAI } from "../fake_models.ts";
import { withLedger } from "../ledger_helpers.ts";

const MODULES = new URL("../../node_modules/", import.meta.url).pathname;
const server = (name: string) => join(MODULES, "@modelcontextprotocol", name, "dist", "index.js");
/** What a stdio server needs to read outside the system folders: the installed packages. */
const READ = [await Deno.realPath(MODULES)];

Deno.env.set("TROUPE_MCP_KEY", "sk-mcp-test-0123456789");

Deno.test("the coder uses a real MCP filesystem server on its scratch copy, each call under policy: a tool with an argument pattern allowed, the rest refused", () =>
  withLedger(async (ledger) => {
    const tmp = await Deno.makeTempDir({ prefix: "troupe-mcp-" });
    try {
      const repo = await brokenAdder(tmp);
      // The preset's rule for MCP tools (at autonomy 2: approval, which a tool call is not held
      // for) is replaced by one of the same id: only what this policy allows runs, the rest is
      // denied as any privileged action no rule allows.
      const policy = join(tmp, "policy.yaml");
      await Deno.writeTextFile(
        policy,
        [
          "name: fs-tools",
          "rules:",
          "  - id: mcp-tools",
          "    match: { action: tool.call, resource: mcp/fs/read_text_file, arguments: { path: 'src/**' } }",
          "    effect: allow",
          "  - id: write-files",
          "    match: { action: tool.call, resource: mcp/fs/write_file }",
          "    effect: allow",
          "",
        ].join("\n"),
      );
      const plan = {
        tasks: [
          { id: "code", kind: "code", dependsOn: ["scan", "detect"] },
          { id: "review", kind: "review", dependsOn: ["scan", "assess", "code"] },
        ],
      };
      const call = (id: string, name: string, args: Record<string, unknown>) => ({
        id,
        name,
        arguments: args,
      });
      await using fake = await fakeOpenAI([
        { kind: "answer", text: JSON.stringify(plan) },
        {
          kind: "answer",
          text: "",
          toolCalls: [
            call("m1", "fs__read_text_file", { path: "src/add.js" }),
            call("m2", "fs__read_text_file", { path: "config/secret.txt" }),
            call("m3", "fs__list_allowed_directories", {}),
          ],
        },
        {
          kind: "answer",
          text: "",
          toolCalls: [
            call("m4", "fs__write_file", {
              path: "src/add.js",
              content: "export const add = (a, b) => a + b;\n",
            }),
            call("m5", "run_tests", {}),
          ],
        },
      ]);
      const session = await RunSession.start(ledger, {
        repo,
        out: join(tmp, "out"),
        goal: "make add add",
        autonomy: 2,
        policies: [policy],
        llm: {
          providers: [{
            name: "fake",
            kind: "openai",
            baseUrl: fake.url,
            apiKeyEnv: "TROUPE_MCP_KEY",
            models: ["coder-1"],
            maxRetries: 0,
            local: true,
          }],
          mcp: [{
            name: "fs",
            command: "node",
            args: [server("server-filesystem"), "${workspace}"],
            read: READ,
          }],
        },
      });
      const result = await session.run();
      assert.equal(result.ok, true, JSON.stringify(result.outcome.dead));
      // The server's write to the scratch copy is the change; the repository is untouched.
      assert.deepEqual(result.files.map((f) => `${f.mode} ${f.path}`), ["replace src/add.js"]);
      assert.equal(result.files[0].content, "export const add = (a, b) => a + b;\n");
      assert.match(await Deno.readTextFile(join(repo, "src", "add.js")), /a - b/);

      const coder = fake.requests[1].body as { tools: { function: { name: string } }[] };
      assert.ok(coder.tools.some((t) => t.function.name === "fs__read_text_file"));
      const calls = (await ledger.query(
        `SELECT payload->>'server' AS server, payload->>'tool' AS tool, payload->>'effect' AS effect,
                payload->>'result' AS result
           FROM events WHERE type = 'tool_call' AND run_id = '${result.runId}' ORDER BY seq`,
      )).rows as { server: string; tool: string; effect: string; result: string }[];
      assert.deepEqual(calls.map((c) => `${c.server}/${c.tool}:${c.effect}`), [
        "fs/read_text_file:allow",
        "fs/read_text_file:deny",
        "fs/list_allowed_directories:deny",
        "fs/write_file:allow",
        "builtin/run_tests:allow",
      ]);
      assert.match(calls[0].result, /a - b/);
      const sent = fake.requests.map((r) => JSON.stringify(r.body)).join("");
      assert.doesNotMatch(sent, /do not show/);
      assert.match(sent, /refused by policy/);

      // Verified from the record: no server starts, the server's write is written again.
      const asked = fake.requests.length;
      const verified = await verifyRun(ledger, result.runId);
      assert.equal(verified.divergence, undefined, JSON.stringify(verified.divergence, null, 1));
      assert.equal(fake.requests.length, asked);
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  }));

Deno.test("a stdio MCP server runs inside bubblewrap with only the environment its entry gives it", async () => {
  const workspace = await Deno.makeTempDir({ prefix: "troupe-mcp-everything-" });
  Deno.env.set("TROUPE_MCP_SECRET", "must-not-leak");
  const servers = await McpServers.open([
    McpServerConfig.parse({
      name: "everything",
      command: "node",
      args: [server("server-everything"), "stdio"],
      env: { GREETING: "hello" },
      read: READ,
    }),
  ], workspace);
  try {
    assert.deepEqual(servers.problems, []);
    const names = servers.specs().map((t) => t.name);
    assert.ok(names.includes("everything__echo"), names.join(", "));
    const echo = await servers.call("everything__echo", { message: "over stdio" });
    assert.deepEqual(echo, { ok: true, text: "Echo: over stdio" });
    const env = await servers.call("everything__get-env", {});
    assert.equal(env.ok, true);
    const seen = JSON.parse(env.text);
    assert.equal(seen.GREETING, "hello");
    assert.equal(seen.TROUPE_MCP_SECRET, undefined);
    assert.equal(seen.HOME, "/tmp");
  } finally {
    await servers.close();
    Deno.env.delete("TROUPE_MCP_SECRET");
    await Deno.remove(workspace, { recursive: true });
  }
});

Deno.test("an MCP server over streamable HTTP on 127.0.0.1 is listed and called; one that cannot be reached is named, not thrown", async () => {
  // A server made with the official SDK, stateless: a server and transport per request.
  const http = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    // Stateless, it offers no stream of its own (GET): a client's stream opened as it closes
    // would be held open, and the server's shutdown would wait for it.
    if (req.method !== "POST") return new Response(null, { status: 405 });
    const mcp = new McpServer({ name: "calc", version: "1.0.0" });
    mcp.registerTool("add", {
      description: "Adds two numbers",
      inputSchema: { a: z.number(), b: z.number() },
    }, ({ a, b }: { a: number; b: number }) => ({
      content: [{ type: "text" as const, text: String(a + b) }],
    }));
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    await mcp.connect(transport);
    return await transport.handleRequest(req);
  });
  const workspace = await Deno.makeTempDir({ prefix: "troupe-mcp-http-" });
  const servers = await McpServers.open([
    McpServerConfig.parse({ name: "calc", url: `http://127.0.0.1:${http.addr.port}/mcp` }),
    McpServerConfig.parse({ name: "gone", url: "http://127.0.0.1:9/mcp", timeoutMs: 5_000 }),
  ], workspace);
  try {
    assert.deepEqual(servers.specs().map((t) => t.name), ["calc__add"]);
    assert.equal(servers.problems.length, 1);
    assert.match(servers.problems[0], /^MCP server gone: /);
    assert.deepEqual(await servers.call("calc__add", { a: 2, b: 3 }), { ok: true, text: "5" });
    const bad = await servers.call("calc__add", { a: "two" });
    assert.equal(bad.ok, false);
  } finally {
    await servers.close();
    await http.shutdown();
    await Deno.remove(workspace, { recursive: true });
  }
});
