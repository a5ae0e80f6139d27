import { McpServer, ResourceTemplate } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { RequestHandlerExtra } from "@modelcontextprotocol/sdk/shared/protocol.js";
import type {
  CallToolResult,
  ServerNotification,
  ServerRequest,
} from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import { SignedVote } from "../../policies/mod.ts";
import { realClock, sleep } from "../../runtime/mod.ts";
import { VIEWS } from "../../ledger/mod.ts";
import { RemoteRunRequest } from "../run_confinement.ts";
import { SqlRequest } from "./ledger_sql.ts";
import { PluginCall } from "./plugins.ts";
import type { RunView } from "../run_view.ts";

/**
 * How the MCP server reaches troupe: one request to the control endpoint, made as the MCP
 * client's caller (its token). So every tool is checked by the route's own schema and role, and
 * audited, exactly as over HTTP.
 */
export type EndpointCall = (method: string, path: string, body?: unknown) => Promise<Response>;

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;
const RunIdArg = { runId: z.string().min(1).max(100).describe("a run id, as start_run gives it") };
const FINISHED_STATES = new Set(["succeeded", "dead", "skipped"]);
/** How long `follow_run` follows before it answers with the run still going. */
const FOLLOW_DEFAULT_S = 600;

/**
 * troupe as an MCP server (`deno task mcp` on stdio, `/mcp` on `deno task serve`): tools to start,
 * follow, report, list, cancel and resume runs, query the ledger, list approvals and cast signed
 * votes, list actors and call plugins; each run's report and proposed files, and the ledger's
 * views, as resources; two prompts. Built with the official SDK; every tool is one call of the
 * control endpoint (see `EndpointCall`).
 */
export function troupeMcpServer(call: EndpointCall, version: string): McpServer {
  const server = new McpServer({ name: "troupe", version });
  /** A tool's answer: the endpoint's JSON, or its error as an error result (never a throw). */
  const answer = async (method: string, path: string, body?: unknown): Promise<CallToolResult> => {
    const r = await call(method, path, body);
    const text = await r.text();
    if (!r.ok) {
      const message = (() => {
        try {
          return JSON.parse(text).error?.message ?? text;
        } catch {
          return text;
        }
      })();
      return { isError: true, content: [{ type: "text", text: `${r.status}: ${message}` }] };
    }
    return { content: [{ type: "text", text }] };
  };
  const json = async (path: string) => {
    const r = await call("GET", path);
    if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
    return await r.json();
  };
  const id = (runId: string) => encodeURIComponent(runId);
  /** A tool whose arguments are checked by `schema` (typed here: the SDK's inference gives up). */
  const tool = <S extends z.ZodObject>(
    name: string,
    config: { title: string; description: string; readOnly?: boolean },
    schema: S,
    run: (args: z.output<S>, extra: Extra) => Promise<CallToolResult>,
  ) =>
    server.registerTool(name, {
      title: config.title,
      description: config.description,
      inputSchema: schema,
      ...(config.readOnly ? { annotations: { readOnlyHint: true } } : {}),
    }, ((args: z.output<S>, extra: Extra) => run(args, extra)) as never);

  tool(
    "start_run",
    {
      title: "Start a run",
      description:
        "Start the team on a repository under the server's roots, with a goal; returns " +
        "the run id. Follow it with follow_run.",
    },
    RemoteRunRequest,
    (args) => answer("POST", "/runs", args),
  );

  tool(
    "follow_run",
    {
      title: "Follow a run",
      description: "Wait while a run works, with progress notifications (tasks done of all), and " +
        "answer with its view once it ends (or, after timeoutSeconds, as it stands).",
    },
    z.object({
      ...RunIdArg,
      timeoutSeconds: z.number().int().min(1).max(3600).default(FOLLOW_DEFAULT_S),
    }),
    async ({ runId, timeoutSeconds }, extra) => {
      const token = extra._meta?.progressToken;
      const deadline = Date.now() + timeoutSeconds * 1000;
      let told = "";
      for (;;) {
        const r = await call("GET", `/runs/${id(runId)}`);
        if (!r.ok) return await answer("GET", `/runs/${id(runId)}`);
        const view = await r.json() as RunView;
        const done = view.tasks.filter((t) => FINISHED_STATES.has(t.state)).length;
        const running = view.tasks.filter((t) => t.state === "running").map((t) => t.id);
        const message = `${done} of ${view.tasks.length} tasks done` +
          (running.length ? `; running: ${running.join(", ")}` : "");
        if (token !== undefined && message !== told) {
          told = message;
          await extra.sendNotification({
            method: "notifications/progress",
            params: { progressToken: token, progress: done, total: view.tasks.length, message },
          });
        }
        if (view.status !== "running" || Date.now() > deadline || extra.signal.aborted) {
          return { content: [{ type: "text", text: JSON.stringify(view) }] };
        }
        await sleep(realClock, 500);
      }
    },
  );

  tool(
    "get_report",
    {
      title: "A run's report",
      description:
        "The run's report (markdown and JSON) and the files it proposes, from the ledger.",
      readOnly: true,
    },
    z.object(RunIdArg),
    ({ runId }) => answer("GET", `/runs/${id(runId)}/report`),
  );

  tool(
    "list_runs",
    {
      title: "List runs",
      description: "The runs in the ledger, newest first.",
      readOnly: true,
    },
    z.object({ limit: z.number().int().min(1).max(500).default(50) }),
    ({ limit }) => answer("GET", `/runs?limit=${limit}`),
  );

  tool(
    "cancel_run",
    {
      title: "Cancel a run",
      description: "Cancel a run between tasks: running tasks finish, the rest are skipped.",
    },
    z.object(RunIdArg),
    ({ runId }) => answer("POST", `/runs/${id(runId)}/cancel`),
  );

  tool(
    "resume_run",
    {
      title: "Resume a run",
      description: "Resume an interrupted run; completed tasks are not done again.",
    },
    z.object(RunIdArg),
    ({ runId }) => answer("POST", `/runs/${id(runId)}/resume`),
  );

  tool(
    "query_ledger",
    {
      title: "Query the ledger",
      description: "One read-only SQL SELECT over the ledger (its `events` table and views: " +
        `${VIEWS.map((v) => v.name).join(", ")}).`,
      readOnly: true,
    },
    SqlRequest,
    (args) => answer("POST", "/ledger/sql", args),
  );

  tool(
    "list_approvals",
    {
      title: "List approvals",
      description: "Approval requests with their votes and how each stands.",
      readOnly: true,
    },
    z.object({}),
    () => answer("GET", "/approvals"),
  );

  tool(
    "cast_vote",
    {
      title: "Cast a signed vote",
      description: "Cast a vote on an approval request, signed with an approver's key (as " +
        "`deno task approve` signs it); votes that would not count are refused with the reason.",
    },
    z.object({ approvalId: z.string().min(1).max(200), signed: SignedVote }),
    (a) => answer("POST", `/approvals/${encodeURIComponent(a.approvalId)}/votes`, a.signed),
  );

  tool(
    "list_actors",
    {
      title: "List actors",
      description: "The actors running on the server, with their state and load.",
      readOnly: true,
    },
    z.object({}),
    () => answer("GET", "/actors"),
  );

  tool(
    "call_plugin",
    {
      title: "Call a plugin",
      description: "Call a function of a plugin on the server's shelf once, in its WASM sandbox.",
    },
    PluginCall.extend({ name: z.string().min(1).max(64) }),
    ({ name, ...rest }) => answer("POST", `/plugins/${encodeURIComponent(name)}/call`, rest),
  );

  const runs = async () => (await json("/runs?limit=50")) as { runId: string }[];
  server.registerResource(
    "run_report",
    new ResourceTemplate("troupe://runs/{runId}/report", {
      list: async () => ({
        resources: (await runs()).map((r) => ({
          uri: `troupe://runs/${r.runId}/report`,
          name: `report of ${r.runId}`,
          mimeType: "text/markdown",
        })),
      }),
    }),
    { title: "A run's report", mimeType: "text/markdown" },
    async (uri: URL, { runId }: Record<string, unknown>) => ({
      contents: [{
        uri: uri.href,
        mimeType: "text/markdown",
        text: (await json(`/runs/${id(String(runId))}/report`)).markdown,
      }],
    }),
  );
  server.registerResource(
    "run_files",
    new ResourceTemplate("troupe://runs/{runId}/files", { list: undefined }),
    { title: "The files a run proposes", mimeType: "application/json" },
    async (uri: URL, { runId }: Record<string, unknown>) => ({
      contents: [{
        uri: uri.href,
        mimeType: "application/json",
        text: JSON.stringify((await json(`/runs/${id(String(runId))}/report`)).files),
      }],
    }),
  );
  for (const view of VIEWS) {
    server.registerResource(
      `view_${view.name}`,
      `troupe://views/${view.name}`,
      { title: `The ${view.name} view`, description: view.about, mimeType: "text/plain" },
      (uri: URL) => ({
        contents: [{
          uri: uri.href,
          mimeType: "text/plain",
          text: `${view.about}\n\nExample:\n${view.example}\n\nDefinition:\n${view.sql}`,
        }],
      }),
    );
  }

  server.registerPrompt("assess_repository", {
    title: "Assess this repository",
    description: "Have troupe's team assess a repository and report what it found.",
    argsSchema: { repo: z.string().describe("the repository's folder, under the server's roots") },
  }, ({ repo }: { repo: string }) => ({
    messages: [{
      role: "user",
      content: {
        type: "text",
        text: `Assess the repository at ${repo} with troupe: call start_run with ` +
          `{"repo": ${JSON.stringify(repo)}, "goal": "assess this repository"}, then follow_run ` +
          "with the run id, then get_report, and summarise the findings by severity and the " +
          "files it proposes.",
      },
    }],
  }));
  server.registerPrompt("why_did_this_run_fail", {
    title: "Why did this run fail",
    description: "Find out from the ledger why a run failed or what it could not do.",
    argsSchema: { runId: z.string().describe("the run's id") },
  }, ({ runId }: { runId: string }) => ({
    messages: [{
      role: "user",
      content: {
        type: "text",
        text: `Find out why troupe run ${runId} failed. Call get_report for it, then ` +
          "query_ledger with: SELECT seq, type, actor, payload FROM events WHERE run_id = " +
          `'${runId.replaceAll("'", "''")}' AND type IN ('task_failed', 'task_dead', ` +
          "'task_skipped', 'run_stopped', 'policy_decision') ORDER BY seq. Explain the first " +
          "cause, what followed from it, and what to change.",
      },
    }],
  }));
  return server;
}
