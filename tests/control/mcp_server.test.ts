import assert from "node:assert/strict";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ListRootsRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import { ControlServer } from "../../control/mod.ts";
import { type ApprovalRequest, newKey, readKeyFile, signVote } from "../../policies/mod.ts";
import { cliArgs } from "../cli_helpers.ts";
import { fixtureRepo, serverFolders } from "../control_helpers.ts";
const TOOLS = [
  "call_plugin",
  "cancel_run",
  "cast_vote",
  "follow_run",
  "get_report",
  "list_actors",
  "list_approvals",
  "list_runs",
  "query_ledger",
  "resume_run",
  "start_run",
];

type Content = { content: { type: string; text: string }[]; isError?: boolean };
const text = (r: unknown) => (r as Content).content[0].text;

/** A folder with a copy of a fixture repository and an approver's key. */
async function workspace() {
  const tmp = await Deno.makeTempDir({ prefix: "troupe-mcp-" });
  const repo = await fixtureRepo(tmp);
  const folders = serverFolders(tmp);
  const { keyFile } = await newKey(folders.keys, "alice", "approver");
  return { tmp, repo, folders, keyFile };
}

/**
 * What a person does through an MCP client: list the tools, start a run that needs a signature
 * to write, follow it (with progress), sign the approval it waits for, follow it to the end and
 * read its report. Returns the progress messages heard.
 */
async function driveRun(client: Client, repo: string, keyFile: string): Promise<string[]> {
  const { tools } = await client.listTools();
  assert.deepEqual(tools.map((t: { name: string }) => t.name).sort(), TOOLS);
  const started = await client.callTool({
    name: "start_run",
    arguments: { repo, goal: "assess and add CI", autonomy: 1, apply: true },
  });
  assert.equal((started as Content).isError, undefined, text(started));
  const { runId } = JSON.parse(text(started));

  // Autonomy 1: the writes wait for a signature. Bounded: the run's tasks take their time.
  let request: ApprovalRequest | undefined;
  for (let i = 0; i < 600 && !request; i++) {
    const listed = JSON.parse(text(await client.callTool({ name: "list_approvals" }))) as (
      ApprovalRequest & { requestHash: string; votes: string[]; outcome: { status: string } }
    )[];
    const waiting = listed.find((a) => a.runId === runId && a.outcome.status === "pending");
    if (waiting) {
      const { requestHash: _, votes: __, outcome: ___, ...req } = waiting;
      request = req as ApprovalRequest;
    } else await new Promise((r) => setTimeout(r, 500));
  }
  assert.ok(request, "the run asked for an approval");
  const signed = await signVote(await readKeyFile(keyFile), request, "approve", "looks right");
  const voted = await client.callTool({
    name: "cast_vote",
    arguments: { approvalId: request.id, signed },
  });
  assert.equal((voted as Content).isError, undefined, text(voted));

  const progress: string[] = [];
  const followed = await client.callTool(
    { name: "follow_run", arguments: { runId, timeoutSeconds: 900 } },
    undefined,
    {
      onprogress: (p: { message?: string }) => progress.push(String(p.message)),
      timeout: 900_000,
      resetTimeoutOnProgress: true,
    },
  );
  const view = JSON.parse(text(followed));
  assert.equal(view.status, "finished", text(followed));
  assert.ok(view.finished.applied.length > 0, "the approved files were written");
  assert.ok(progress.length > 0, "progress was told");
  assert.match(progress.at(-1)!, /^\d+ of \d+ tasks done/);

  const report = JSON.parse(
    text(await client.callTool({ name: "get_report", arguments: { runId } })),
  );
  assert.match(report.markdown, new RegExp(runId));
  assert.ok(report.files.some((f: { path: string }) => f.path.startsWith(".github/workflows/")));
  const resource = await client.readResource({ uri: `troupe://runs/${runId}/report` });
  assert.equal((resource.contents[0] as { text: string }).text, report.markdown);
  const sql = await client.callTool({
    name: "query_ledger",
    arguments: { query: `SELECT count(*) AS n FROM events WHERE run_id = '${runId}'` },
  });
  assert.ok(JSON.parse(text(sql)).rows[0].n > 10);
  return progress;
}

Deno.test("an MCP client drives a whole run over streamable HTTP at /mcp: start, follow with progress, sign its approval, read its report; under the caller's token and role", async () => {
  const { tmp, repo, folders, keyFile } = await workspace();
  try {
    await using server = await ControlServer.start({
      ...folders,
      runs: { repos: [tmp], outRoot: join(tmp, "runs") },
    });
    const connect = async (token: string) => {
      const client = new Client({ name: "test", version: "1" });
      await client.connect(
        new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`), {
          requestInit: { headers: { authorization: `Bearer ${token}` } },
        }),
      );
      return client;
    };
    // No token, no MCP.
    await assert.rejects(connect("not-a-token"), /unauthorized/);
    const client = await connect(server.token!);
    try {
      await driveRun(client, repo, keyFile);
      // A repository outside the server's roots is refused by the route's own confinement.
      const outside = await client.callTool({
        name: "start_run",
        arguments: { repo: "/etc", goal: "assess" },
      });
      assert.equal((outside as Content).isError, true);
      assert.match(text(outside), /under|root/);
      const prompts = await client.listPrompts();
      assert.deepEqual(prompts.prompts.map((p: { name: string }) => p.name).sort(), [
        "assess_repository",
        "why_did_this_run_fail",
      ]);
    } finally {
      await client.close();
    }
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("deno task mcp speaks MCP on stdio: runs go under the roots the client names, and a whole run is driven through it", async () => {
  const { tmp, repo, folders, keyFile } = await workspace();
  try {
    const client = new Client({ name: "test", version: "1" }, { capabilities: { roots: {} } });
    client.setRequestHandler(ListRootsRequestSchema, () => ({
      roots: [{ uri: pathToFileURL(tmp).href, name: "work" }],
    }));
    const transport = new StdioClientTransport({
      command: Deno.execPath(),
      args: cliArgs([
        "mcp",
        "--ledger",
        folders.ledger,
        "--keys",
        folders.keys,
        "--approvals",
        folders.approvals,
        "--plugins",
        folders.plugins,
        "--runs-out",
        join(tmp, "runs"),
      ]),
      stderr: "pipe",
    });
    await client.connect(transport);
    try {
      await driveRun(client, repo, keyFile);
      // This folder is not among the client's roots.
      const outside = await client.callTool({
        name: "start_run",
        arguments: { repo: Deno.cwd(), goal: "assess" },
      });
      assert.equal((outside as Content).isError, true);
    } finally {
      await client.close();
    }
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
