import type { Registry } from "prom-client";
import type { Ledger } from "../ledger/mod.ts";
import type { ActorSystem } from "../runtime/mod.ts";
import type { ClusterNode } from "../runtime/cluster_node.ts";
import type { FeedBounds } from "./event_feed.ts";
import type { PluginShelf } from "./plugin_shelf.ts";
import type { RunConfinement } from "./run_confinement.ts";
import type { RunDesk } from "./run_desk.ts";
import type { Caller, TokenTable } from "./tokens.ts";

/** What every route handler finds on its context: who called. */
export type Env = { Variables: { caller: Caller } };

/** Which hosts and origins a server answers: its own addresses, set once it listens. */
export interface HostAllowList {
  /** `host:port` values a request's Host header may carry (lowercase); empty: any. */
  hosts: Set<string>;
}

/** What the routes work on. */
export interface ControlContext {
  ledger: Ledger;
  runs: RunDesk;
  /** The server's actor system: every run's team, and what people spawn. */
  system: ActorSystem;
  /** Served at /metrics in Prometheus text format. */
  metrics: Registry;
  /** Uploaded plugins, called over HTTP in sandboxes. */
  plugins: PluginShelf;
  /** Without tokens every caller is an anonymous admin: the server then binds to loopback only. */
  tokens?: TokenTable;
  keys: string;
  approvals: string;
  /** The Host names requests may carry (filled in once the server listens); empty: any. */
  allowList?: HostAllowList;
  /** What remote runs may touch and do: the server's configuration, never the request's. */
  confinement: RunConfinement;
  /** Largest request body, in bytes (default 1 MiB). */
  maxBodyBytes?: number;
  /** SQL queries one token may run at once (default 2): each holds a DuckDB connection. */
  maxQueriesPerToken?: number;
  /** What one live stream may hold for a client that does not read (see `FeedBounds`). */
  streamBounds?: Omit<FeedBounds, "onOverflow">;
  /** Live event streams one token may hold at once (default 8). */
  maxStreamsPerToken?: number;
  /** How long a request may take, event streams aside (default 70 s: an ask may wait 60 s). */
  requestTimeoutMs?: number;
  /** The cluster the server's system joined (`serve --cluster`), whose nodes /nodes lists. */
  cluster?: ClusterNode;
  /** Aborts when the server closes: live streams end so that it can. */
  closing?: AbortSignal;
}
