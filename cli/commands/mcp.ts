import { fileURLToPath } from "node:url";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { ControlServer, MCP_VERSION, troupeMcpServer } from "../../control/mod.ts";
import { DEFAULT_APPROVALS_DIR, DEFAULT_KEY_DIR } from "../../policies/mod.ts";
import { LlmConfig } from "../../actors/llm/llm_config.ts";
import { loadPolicyData } from "../../policies/load_policy.ts";
import { defineCommand, LEDGER_FLAG } from "../command.ts";

export const mcp = defineCommand({
  name: "mcp",
  summary: "troupe as an MCP server on stdio, for Claude Desktop, Cursor, VS Code, … (--help)",
  usage: `Usage: deno task mcp [--ledger PATH] [--repos DIR]... [--runs-out DIR] [--keys DIR]
                     [--approvals DIR] [--plugins DIR] [--llm-config F]

Speaks the Model Context Protocol on stdin and stdout: an MCP client starts it and can start,
follow, cancel and resume runs, read their reports, query the ledger with SQL, list approvals
and cast signed votes, list actors and call plugins. Behind it runs the same control endpoint as
deno task serve, on 127.0.0.1 with a token of its own (its page's address is printed on stderr
when it starts, at the first tool call); each tool is one call of it. (deno task serve offers
the same tools over streamable HTTP at /mcp, behind its tokens.)

Runs touch only repositories under --repos; without it, under the roots the client names
(MCP roots), or the current folder when it names none.

Options:
  --ledger PATH     the ledger (default .troupe/ledger.duckdb); not one a server already has
  --repos DIR       runs touch only repositories under DIR (repeat for more roots)
  --runs-out DIR    where runs write their results, one folder per run (default .troupe/runs)
  --keys DIR        the key folder whose trust.json says who may sign (default ${DEFAULT_KEY_DIR})
  --approvals DIR   the approvals inbox (default ${DEFAULT_APPROVALS_DIR})
  --plugins DIR     the plugin shelf (default .troupe/plugins)
  --llm-config F    the models runs may plan with
  -h, --help        show this help`,
  flags: {
    ledger: LEDGER_FLAG,
    repos: { type: "string", multiple: true },
    "runs-out": { type: "string" },
    keys: { type: "string", default: DEFAULT_KEY_DIR },
    approvals: { type: "string", default: DEFAULT_APPROVALS_DIR },
    plugins: { type: "string", default: ".troupe/plugins" },
    "llm-config": { type: "string" },
  },
  async run(flags, positionals, fail) {
    if (positionals.length > 0) return fail(`unexpected argument "${positionals[0]}"`);
    const llm = flags["llm-config"]
      ? await loadPolicyData(flags["llm-config"], LlmConfig, "", "LLM configuration")
      : undefined;
    // Started at the first tool call, when the client's roots are known.
    let started: Promise<ControlServer> | undefined;
    const control = () =>
      started ??= (async () => {
        const repos = flags.repos ?? await clientRoots();
        const server = await ControlServer.start({
          port: 0,
          ledger: flags.ledger,
          keys: flags.keys,
          approvals: flags.approvals,
          plugins: flags.plugins,
          runs: {
            ...(repos.length ? { repos } : {}),
            ...(flags["runs-out"] ? { outRoot: flags["runs-out"] } : {}),
            ...(llm ? { llm } : {}),
          },
        });
        console.error(
          `troupe mcp: ${flags.ledger}, runs under ${repos.join(", ") || "this folder"}; ` +
            `the page: ${server.url}/page/index.html#token=${server.token}`,
        );
        return server;
      })();
    const mcpServer = troupeMcpServer(async (method, path, body) => {
      const server = await control();
      return await fetch(`${server.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${server.token}`,
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    }, MCP_VERSION);
    /** The client's file roots, when it has the capability. */
    const clientRoots = async (): Promise<string[]> => {
      if (!mcpServer.server.getClientCapabilities()?.roots) return [];
      const { roots } = await mcpServer.server.listRoots();
      return (roots as { uri: string }[]).filter((r) => r.uri.startsWith("file:"))
        .map((r) => fileURLToPath(r.uri));
    };
    const closed = Promise.withResolvers<void>();
    const transport = new StdioServerTransport();
    transport.onclose = () => closed.resolve();
    await mcpServer.connect(transport);
    await closed.promise;
    if (started) await (await started).close();
    return 0;
  },
});
