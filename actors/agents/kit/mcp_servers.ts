import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { McpServerConfig } from "../../llm/llm_config.ts";
import type { ToolSpec } from "../../llm/model_call.ts";
import { mcpToolName } from "../../llm/tool_desk_protocol.ts";
import { bubblewrapArgs, sandboxAvailable } from "./repo_sandbox.ts";
import { bounded } from "./workspace_tools.ts";

/** An MCP tool as offered: the name the model calls it by, its server and its own name. */
interface McpTool {
  spec: ToolSpec;
  server: string;
  tool: string;
}

/**
 * The MCP servers one task uses, through the official SDK's client: stdio servers run inside
 * bubblewrap with the task's scratch copy as the only writable folder (and no network unless
 * their entry allows it); HTTP servers are reached at their URL. Started when the task opens its
 * tools, closed when it ends.
 */
export class McpServers {
  readonly #clients = new Map<string, { client: Client; config: McpServerConfig }>();
  readonly #tools = new Map<string, McpTool>();
  /** Servers that could not be started or listed, and why. */
  readonly problems: string[] = [];

  private constructor() {}

  /** Connects to every configured server; one that fails is named in `problems`, not thrown. */
  static async open(configs: McpServerConfig[], workspace: string): Promise<McpServers> {
    const servers = new McpServers();
    for (const config of configs) {
      try {
        await servers.#connect(config, workspace);
      } catch (err) {
        servers.problems.push(`MCP server ${config.name}: ${(err as Error).message}`);
      }
    }
    return servers;
  }

  async #connect(config: McpServerConfig, workspace: string): Promise<void> {
    const client = new Client({ name: "troupe", version: "0.1.0" });
    const transport = "url" in config
      ? new StreamableHTTPClientTransport(new URL(config.url))
      : new StdioClientTransport(await stdioCommand(config, workspace));
    await client.connect(transport, { timeout: config.timeoutMs });
    this.#clients.set(config.name, { client, config });
    const { tools } = await client.listTools(undefined, { timeout: config.timeoutMs });
    for (const t of tools) {
      const name = mcpToolName(config.name, t.name);
      this.#tools.set(name, {
        server: config.name,
        tool: t.name,
        spec: {
          name,
          description: `${t.description ?? t.name} (MCP server ${config.name})`,
          parameters: t.inputSchema as Record<string, unknown>,
        },
      });
    }
  }

  /** The tools offered to the model. */
  specs(): ToolSpec[] {
    return [...this.#tools.values()].map((t) => t.spec);
  }

  /** Which server and tool a model's tool name is, if it is one of these. */
  find(name: string): { server: string; tool: string } | undefined {
    const t = this.#tools.get(name);
    return t && { server: t.server, tool: t.tool };
  }

  /** Calls a tool; its text content is the result, an error result is `ok: false`. */
  async call(name: string, args: Record<string, unknown>): Promise<{ ok: boolean; text: string }> {
    const t = this.#tools.get(name);
    const entry = t && this.#clients.get(t.server);
    if (!t || !entry) return { ok: false, text: `there is no MCP tool ${name}` };
    try {
      const r = await entry.client.callTool({ name: t.tool, arguments: args }, undefined, {
        timeout: entry.config.timeoutMs,
      });
      const content = (r.content ?? []) as { type: string; text?: string }[];
      const text = content.map((c) => c.type === "text" ? c.text ?? "" : `[${c.type}]`).join("\n");
      return { ok: r.isError !== true, text: bounded(text) };
    } catch (err) {
      return { ok: false, text: `${t.server}/${t.tool} failed: ${(err as Error).message}` };
    }
  }

  /** Stops every server (a stdio server's process with it). */
  async close(): Promise<void> {
    await Promise.all([...this.#clients.values()].map((c) => c.client.close().catch(() => {})));
    this.#clients.clear();
  }
}

/** A stdio server's command: inside bubblewrap, `${workspace}` in its arguments replaced. */
async function stdioCommand(
  config: Extract<McpServerConfig, { command: string }>,
  workspace: string,
) {
  if (!(await sandboxAvailable())) {
    throw new Error(
      "stdio MCP servers run only inside bubblewrap, which is not installed " +
        "(apt-get install bubblewrap)",
    );
  }
  const args = config.args.map((a) => a.replaceAll("${workspace}", workspace));
  const env = { PATH: "/usr/local/bin:/usr/bin:/bin", HOME: "/tmp", ...config.env };
  return {
    command: "bwrap",
    args: [
      ...bubblewrapArgs(workspace, { network: config.network }, env, config.read),
      config.command,
      ...args,
    ],
    // bubblewrap clears and sets the server's environment; the SDK's is only bwrap's own.
    env: { PATH: "/usr/local/bin:/usr/bin:/bin" },
    stderr: "ignore" as const,
  };
}
