/**
 * troupe's HTTP control endpoint: runs, the ledger's live events, SQL and approvals over HTTP,
 * described by `/openapi.json`.
 *
 * ```ts
 * import { ControlServer } from "./control/mod.ts";
 *
 * await using server = await ControlServer.start({ port: 0, ledger: ":memory:" });
 * const res = await fetch(`${server.url}/runs`, {
 *   method: "POST",
 *   headers: { "content-type": "application/json" },
 *   body: JSON.stringify({ repo: ".", goal: "audit this repository" }),
 * });
 * console.log(await res.json()); // { runId: "run-…" }
 * ```
 *
 * @module
 */
export { ControlServer, type ServeOptions } from "./server.ts";
export { controlApp } from "./app.ts";
export type { ControlContext, Env, HostAllowList } from "./control_context.ts";
export { ErrorBody } from "./http_errors.ts";
export { ControlCall } from "./middleware/record_mutations.ts";
export { StreamDropped } from "./routes/events.ts";
export { type FeedBounds, type FeedFilter, FeedOverflow, followLedger } from "./event_feed.ts";
export { RunDesk, type RunDeskOptions } from "./run_desk.ts";
export { PluginShelf, type ShelvedPlugin } from "./plugin_shelf.ts";
export { relevantChange, RepoWatcher, type WatchOptions } from "./repo_watcher.ts";
export { type RunView, viewRun } from "./run_view.ts";
export { claimLedger, type LedgerClaim, servedBy } from "./ledger_owner.ts";
export { type Ability, allows, type Caller, Role, TokensFile, TokenTable } from "./tokens.ts";
export {
  confinement,
  confineRun,
  DEFAULT_AUTONOMY,
  RemoteRunRequest,
  type RunConfinement,
} from "./run_confinement.ts";
export { CONTENT_SECURITY_POLICY, requestGuard } from "./middleware/request_guard.ts";
export { makeLocalToken, readLocalToken } from "./local_token.ts";
export { ControlRefused, RefusalAudit } from "./middleware/refusal_audit.ts";
export { type EndpointCall, troupeMcpServer } from "./routes/mcp_server.ts";
export { MCP_VERSION, mcpRoutes } from "./routes/mcp.ts";
