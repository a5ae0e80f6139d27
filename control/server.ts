import { ClusterNode } from "../runtime/cluster_node.ts";
import { dirname, resolve } from "node:path";
import { DEFAULT_LEDGER_PATH, Ledger } from "../ledger/mod.ts";
import { DEFAULT_APPROVALS_DIR, DEFAULT_KEY_DIR } from "../policies/mod.ts";
import { ActorSystem, HealthMonitor, TroupeError } from "../runtime/mod.ts";
import { recordSystem } from "../ledger/mod.ts";
import { serverMetrics } from "./metrics.ts";
import type { RunHooks } from "../actors/mod.ts";
import { controlApp } from "./app.ts";
import type { ControlContext } from "./control_context.ts";
import { claimLedger, type LedgerClaim } from "./ledger_owner.ts";
import { PluginShelf } from "./plugin_shelf.ts";
import { RunDesk } from "./run_desk.ts";
import { RepoWatcher, type WatchOptions } from "./repo_watcher.ts";
import { TokenTable } from "./tokens.ts";
import { makeLocalToken } from "./local_token.ts";
import { confinement, type RunConfinement } from "./run_confinement.ts";
import type { HostAllowList } from "./control_context.ts";

/** How a control server starts. */
export interface ServeOptions {
  /** 0 picks a free port (default 8787). */
  port?: number;
  /** Default 127.0.0.1. Another address needs a tokens file. */
  host?: string;
  ledger?: string;
  /**
   * A tokens file; without one the server binds to loopback only and makes a token of its own
   * (`token`, kept in `LEDGER.token`), whose holder is admin.
   */
  tokens?: string;
  keys?: string;
  approvals?: string;
  /** Where uploaded plugins are kept (default .troupe/plugins). */
  plugins?: string;
  /** Told of each run's progress and approvals. */
  hooks?: RunHooks;
  /**
   * What runs submitted over HTTP may touch and do: repository roots (default: this folder), the
   * output folder, autonomy ceilings per role, and the policies, packs and models they may name.
   */
  runs?: Partial<RunConfinement>;
  /**
   * Host names (with port) requests may carry besides the server's own loopback addresses; a
   * server bound to another address answers any Host unless these are given.
   */
  allowedHosts?: string[];
  /** What one live event stream may hold for a client that does not read. */
  streamBounds?: ControlContext["streamBounds"];
  /** NATS servers of a cluster to join: runs spread over its nodes, /nodes lists them. */
  cluster?: string[];
  /** Keep the team on this repository: a change starts an assessment run. */
  watch?: Omit<WatchOptions, "repo"> & { repo: string };
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|::1|\[::1\])$/;
/** The names a loopback server answers to (a rebinding attacker's own name is not among them). */
const LOCAL_NAMES = ["127.0.0.1", "localhost", "[::1]"];

/**
 * troupe's HTTP control endpoint: a Hono app on `Deno.serve` that owns the ledger and drives
 * runs through the same `RunSession` as the CLI. `close` cancels the runs still going, ends
 * live streams, and releases the ledger.
 */
export class ControlServer {
  private constructor(
    readonly url: string,
    readonly ledger: Ledger,
    readonly runs: RunDesk,
    readonly authenticated: boolean,
    readonly server: Deno.HttpServer,
    readonly closing: AbortController,
    readonly owner: LedgerClaim,
    readonly system: ActorSystem,
    private readonly teardown: () => Promise<void>,
    /** The token the server made for itself when it started without a tokens file. */
    readonly token?: string,
    /** Where that token is kept, readable by this user only. */
    readonly tokenFile?: string,
    /** The watcher of `--watch`, when there is one. */
    readonly watcher?: RepoWatcher,
  ) {}

  /** Starts a server; refuses a non-loopback address without tokens, and a ledger already served. */
  static async start(o: ServeOptions = {}): Promise<ControlServer> {
    const host = o.host ?? "127.0.0.1";
    if (!o.tokens && !LOOPBACK.test(host)) {
      throw new TroupeError(
        "invalid_spec",
        `serving on ${host} without --tokens would let anyone drive troupe; give --tokens FILE ` +
          `or bind to 127.0.0.1`,
        { host },
      );
    }
    const ledgerPath = o.ledger ?? DEFAULT_LEDGER_PATH;
    const fromFile = o.tokens ? await TokenTable.load(o.tokens) : undefined;
    if (ledgerPath !== ":memory:") {
      await Deno.mkdir(dirname(resolve(ledgerPath)), { recursive: true });
    }
    const keys = o.keys ?? DEFAULT_KEY_DIR;
    const approvals = o.approvals ?? DEFAULT_APPROVALS_DIR;
    // Claimed before the ledger opens, so a second server learns who has it, not DuckDB's lock.
    const pending = Promise.withResolvers<string>();
    const owner = await claimLedger(ledgerPath);
    let ledger: Ledger | undefined;
    let own: Awaited<ReturnType<typeof makeLocalToken>> | undefined;
    try {
      // Made once the ledger is this server's: a second server must not replace the first's.
      own = fromFile ? undefined : await makeLocalToken(ledgerPath);
      const tokens = fromFile ?? TokenTable.single("local", "admin", own!.token);
      ledger = await Ledger.open(ledgerPath);
      // One actor system for the server: each run's team joins it, beside what people spawn.
      const system = await ActorSystem.start();
      const cluster = o.cluster?.length
        ? await ClusterNode.join(system, { servers: o.cluster })
        : undefined;
      const health = new HealthMonitor(system);
      const runs = new RunDesk(ledger, {
        keys,
        approvals,
        system,
        health,
        ...(cluster ? { cluster } : {}),
        ...(o.hooks ? { hooks: o.hooks } : {}),
      });
      // Actors of no run are recorded with no run id; each run records its own team.
      const detach = recordSystem(system, ledger, { runId: null, actors: (id) => !runs.owns(id) });
      const metrics = serverMetrics(ledger, system);
      const closing = new AbortController();
      const allowList: HostAllowList = { hosts: new Set() };
      const app = controlApp({
        allowList,
        ledger,
        runs,
        system,
        metrics: metrics.registry,
        plugins: new PluginShelf(o.plugins ?? ".troupe/plugins", ledger),
        tokens,
        keys,
        approvals,
        confinement: await confinement(o.runs),
        ...(cluster ? { cluster } : {}),
        ...(o.streamBounds ? { streamBounds: o.streamBounds } : {}),
        closing: closing.signal,
      });
      const teardown = async () => {
        metrics.stop();
        health.stop();
        await cluster?.leave();
        await system.stop({ deadlineMs: 2000 });
        await detach();
      };
      const server = Deno.serve({
        port: o.port ?? 8787,
        hostname: host,
        onListen: ({ hostname, port }) =>
          pending.resolve(`http://${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}`),
      }, app.fetch);
      const url = await pending.promise;
      const port = new URL(url).port;
      const names = [...(o.allowedHosts ?? [])];
      if (LOOPBACK.test(host)) {
        names.push(
          new URL(url).host,
          ...LOCAL_NAMES.map((n) => `${n}:${port}`),
        );
      }
      names.forEach((n) => allowList.hosts.add(n.toLowerCase()));
      await owner.announce(url);
      const watcher = o.watch ? new RepoWatcher(runs, o.watch) : undefined;
      watcher?.start();
      return new ControlServer(
        url,
        ledger,
        runs,
        !!o.tokens,
        server,
        closing,
        owner,
        system,
        async () => {
          watcher?.stop();
          await teardown();
          own?.remove();
        },
        own?.token,
        own?.file,
        watcher,
      );
    } catch (err) {
      await ledger?.close();
      owner[Symbol.dispose]();
      own?.remove();
      throw err;
    }
  }

  /** Cancels runs still going, ends live streams, stops listening and closes the ledger. */
  async close(): Promise<void> {
    if (this.closing.signal.aborted) return;
    this.watcher?.stop();
    await this.runs.close();
    this.closing.abort();
    await this.server.shutdown();
    await this.teardown();
    await this.ledger.close();
    this.owner[Symbol.dispose]();
  }

  /** `await using server = await ControlServer.start(…)` closes it at the end of the scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
