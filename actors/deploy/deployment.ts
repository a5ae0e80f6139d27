import { relative } from "node:path";
import type { z } from "zod";
import type { EventType, Ledger } from "../../ledger/mod.ts";
import {
  type ApprovalDesk,
  type ApprovalRequest,
  describe,
  type PolicyEngine,
} from "../../policies/mod.ts";
import {
  DeployRefused,
  ReleaseChecked,
  ReleaseLive,
  ReleaseRolledBack,
  ReleaseStarted,
  ReleaseSwitched,
} from "./deploy_events.ts";
import { realClock, sleep } from "../../runtime/mod.ts";
import {
  type DeployState,
  EnvFolder,
  type Phase,
  type ReleaseRecord,
  urlOf,
} from "./deploy_state.ts";
import { NginxProxy } from "./nginx_proxy.ts";
import {
  checkHealth,
  freePort,
  isRunning,
  lastWords,
  type ReleaseProcess,
  startRelease,
  stopRelease,
} from "./release_process.ts";

/** How a deploy runs; the timings' defaults suit a small web service. */
export interface DeployOptions {
  ledger: Ledger;
  /** The run its steps are recorded under (a run's deploy task); default `deploy-RELEASE_ID`. */
  runId?: string;
  /** The deploy root: `<root>/<env>/` holds the state, the releases and the proxy. */
  root: string;
  env: string;
  /** Where the proxy listens: needed the first time, kept in the state after. */
  port?: number;
  host?: string;
  /** Build a new release from this repository … */
  repo?: string;
  /** … or deploy a release deployed before again: its id, or `previous`. */
  rollbackTo?: string;
  /** The health check's path; default `/health`, then `/` where there is no `/health`. */
  health?: string;
  checkTries?: number;
  checkIntervalMs?: number;
  /** After the switch, how long the new release is watched (the old one kept running). */
  watchMs?: number;
  watchIntervalMs?: number;
  buildTimeoutMs?: number;
  /** After the proxy leaves a release, how long its requests in flight have to finish. */
  drainMs?: number;
  policy: PolicyEngine;
  desk: ApprovalDesk;
  signal?: AbortSignal;
  onNews?: (text: string) => void;
  onApprovalNeeded?: (request: ApprovalRequest) => void;
}

/** How a deploy ended. */
export interface DeployOutcome {
  status: "live" | "refused" | "rolled_back";
  env: string;
  releaseId: string;
  /** The release serving now, if one is. */
  live: string | null;
  /** Where the proxy serves it. */
  url: string;
  reason?: string;
}

/** One deploy in progress: its environment's folder, state and proxy, and each of its steps. */
export class Deployment {
  readonly folder: EnvFolder;
  readonly proxy: NginxProxy;
  readonly runId: string;

  constructor(
    readonly o: DeployOptions,
    public state: DeployState,
    readonly release: ReleaseRecord,
  ) {
    this.folder = new EnvFolder(o.root, o.env);
    this.proxy = new NginxProxy(this.folder.proxyDir, state.proxyPort, state.host);
    this.runId = o.runId ?? `deploy-${release.id}`;
  }

  get ids() {
    return { releaseId: this.release.id, env: this.o.env };
  }

  record<S extends z.ZodType>(kind: EventType<string, S>, payload: z.input<S>) {
    return this.o.ledger.record(kind, { runId: this.runId, actor: "deployer", payload });
  }

  outcome(status: DeployOutcome["status"], reason?: string): DeployOutcome {
    return {
      status,
      env: this.o.env,
      releaseId: this.release.id,
      live: this.state.live?.id ?? null,
      url: urlOf(this.state),
      ...(reason ? { reason } : {}),
    };
  }

  /** Writes the state: this release at `phase` of its deploy, or (null) no deploy in progress. */
  async save(phase: Phase | null, process?: ReleaseProcess): Promise<void> {
    const candidate = phase
      ? { release: this.release, phase, ...(process ? { process } : {}) }
      : null;
    this.state = { ...this.state, candidate };
    await this.folder.write(this.state);
  }

  /** The live release, if its processes still run. */
  async #live(): Promise<ReleaseProcess | undefined> {
    const live = this.state.live;
    return live && await isRunning(live) ? live : undefined;
  }

  async refuse(reason: string): Promise<DeployOutcome> {
    await this.save(null);
    await this.record(DeployRefused, { ...this.ids, reason });
    this.o.onNews?.(`not deployed: ${reason}`);
    return this.outcome("refused", reason);
  }

  /** Policy decides `deploy.<env>`; an approval it asks for is parked and waited for. */
  async authorize(): Promise<string | undefined> {
    const { o } = this;
    const action = `deploy.${o.env}`;
    const d = o.policy.decide({
      action,
      actor: "deployer",
      resource: `${o.env}/${this.release.id}`,
      risk: o.env === "production" ? "high" : "medium",
    });
    if (d.effect === "allow") return undefined;
    if (d.effect === "deny") return `policy denied ${action}: ${d.reason}`;
    const request = await o.desk.request({
      runId: this.runId,
      key: "deploy",
      action,
      actor: "deployer",
      resources: [`${o.env}/${this.release.id}`],
      summary: `deploy release ${this.release.id} to ${o.env}`,
      approval: d.approval!,
    });
    o.onApprovalNeeded?.(request);
    const state = await o.desk.wait(request.id, o.signal);
    return state.status === "granted"
      ? undefined
      : `approval ${request.id} ${describe(request, state)}`;
  }

  /** Copies the repository into the release's folder and runs its build there. */
  async build(repo: string): Promise<string | undefined> {
    const dir = this.folder.release(this.release.id);
    await Deno.mkdir(dir, { recursive: true });
    // Neither the repository's history nor troupe's own files (the deploy root among them) go.
    const excludes = [".git", ".troupe", relative(repo, this.o.root)]
      .filter((p) => p && !p.startsWith(".."))
      .map((p) => `--exclude=./${p}`);
    const copy = await new Deno.Command("sh", {
      args: [
        "-c",
        'src=$1; dst=$2; shift 2; tar -C "$src" -cf - "$@" . | tar -C "$dst" -xf -',
        "sh",
        repo,
        dir,
        ...excludes,
      ],
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!copy.success) return `copying ${repo}: ${new TextDecoder().decode(copy.stderr).trim()}`;
    const build = this.release.plan.build;
    if (!build) return undefined;
    try {
      const out = await new Deno.Command(build[0], {
        args: build.slice(1),
        cwd: dir,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
        signal: AbortSignal.timeout(this.o.buildTimeoutMs ?? 600_000),
      }).output();
      await Deno.writeFile(`${dir}.log`, new Uint8Array([...out.stdout, ...out.stderr]), {
        append: true,
      });
      return out.success
        ? undefined
        : `${build.join(" ")} exited with ${out.code} (see ${dir}.log)`;
    } catch (err) {
      return `${build.join(" ")}: ${(err as Error).message}`;
    }
  }

  /** Starts the release on a free port and checks it; an unhealthy one is stopped, never routed to. */
  async startAndCheck(): Promise<ReleaseProcess | string> {
    const { o } = this;
    const dir = this.folder.release(this.release.id);
    const process = startRelease({
      id: this.release.id,
      dir,
      start: this.release.plan.start,
      port: freePort(),
      log: `${dir}.log`,
    });
    await this.save("started", process);
    await this.record(ReleaseStarted, { ...this.ids, port: process.port, pid: process.pid });
    const health = await checkHealth(process.port, {
      path: o.health,
      tries: o.checkTries ?? 40,
      intervalMs: o.checkIntervalMs ?? 250,
      alive: () => isRunning(process),
    });
    await this.record(ReleaseChecked, { ...this.ids, stage: "before_switch", ...health });
    if (health.healthy && await isRunning(process)) return process;
    await stopRelease(process);
    if (health.exited) {
      const said = await lastWords(`${dir}.log`);
      return `it exited before answering its health check${said ? ` (${said})` : ""} ` +
        `(its output: ${dir}.log)`;
    }
    return `its health check failed: GET ${health.path} ${
      health.status ? `answered ${health.status}` : "got no answer"
    } after ${health.tries} tries (its output: ${dir}.log)`;
  }

  /** Routes the proxy to the new release, the live one kept as its backup. */
  async switchTo(process: ReleaseProcess): Promise<void> {
    const live = await this.#live();
    await this.proxy.route({ primary: process.port, backup: live?.port });
    await this.proxy.serves(process.port);
    await this.save("switched", process);
    await this.record(ReleaseSwitched, { ...this.ids, from: live?.id ?? null, port: process.port });
    this.o.onNews?.(`switched ${this.o.env} to ${this.release.id}; watching it`);
  }

  /**
   * Watches the switched release; if it fails a check, the proxy goes back to the live release.
   * If it holds, it serves alone and the release before it is stopped.
   */
  async watch(process: ReleaseProcess): Promise<DeployOutcome> {
    const { o } = this;
    const interval = o.watchIntervalMs ?? 250;
    let checks = 0;
    // The last check seen (none yet: the watch may be shorter than one interval).
    let last = { healthy: true, path: o.health ?? "/health", status: 0 };
    for (const end = Date.now() + (o.watchMs ?? 10_000); Date.now() < end;) {
      await sleep(realClock, interval);
      checks++;
      const running = await isRunning(process);
      last = running
        ? await checkHealth(process.port, { path: o.health, tries: 1, intervalMs: 0 })
        : { healthy: false, path: last.path, status: 0 };
      if (last.healthy) continue;
      await this.record(ReleaseChecked, { ...this.ids, stage: "watch", ...last, tries: checks });
      const said = running
        ? undefined
        : await lastWords(`${this.folder.release(this.release.id)}.log`);
      const why = running
        ? `GET ${last.path} answered ${last.status || "nothing"}`
        : `its process ended${said ? ` (${said})` : ""}`;
      return await this.rollBack(process, `it failed its watch after the switch: ${why}`);
    }
    await this.record(ReleaseChecked, { ...this.ids, stage: "watch", ...last, tries: checks });
    await this.proxy.route({ primary: process.port });
    await this.proxy.serves(process.port);
    const old = this.state.live;
    this.state = {
      ...this.state,
      live: process,
      releases: [...this.state.releases.filter((r) => r.id !== this.release.id), this.release],
    };
    await this.save(null);
    if (old && old.id !== process.id) {
      await sleep(realClock, o.drainMs ?? 1000);
      await stopRelease(old);
    }
    await this.record(ReleaseLive, { ...this.ids, retired: old?.id ?? null });
    o.onNews?.(`${this.release.id} is live on ${o.env}${old ? `; ${old.id} stopped` : ""}`);
    return this.outcome("live");
  }

  /** Back to the live release (when there is one), and the switched one stopped. */
  async rollBack(process: ReleaseProcess, reason: string): Promise<DeployOutcome> {
    const live = await this.#live();
    if (live) {
      await this.proxy.route({ primary: live.port });
      await this.proxy.serves(live.port);
      await sleep(realClock, this.o.drainMs ?? 1000);
    }
    await stopRelease(process);
    await this.save(null);
    await this.record(ReleaseRolledBack, { ...this.ids, to: live?.id ?? null, reason });
    this.o.onNews?.(
      `rolled ${this.o.env} back${live ? ` to ${live.id}` : " (no release before it)"}: ${reason}`,
    );
    return this.outcome("rolled_back", reason);
  }
}
