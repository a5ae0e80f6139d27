import { resolve } from "node:path";
import { TroupeError } from "../../runtime/mod.ts";
import { DeployResumed, DeployStarted, ReleaseBuilt } from "./deploy_events.ts";
import {
  type DeployState,
  EnvFolder,
  newReleaseId,
  type ReleaseRecord,
  urlOf,
} from "./deploy_state.ts";
import { Deployment, type DeployOptions, type DeployOutcome } from "./deployment.ts";
import { NginxProxy } from "./nginx_proxy.ts";
import { isRunning, stopRelease } from "./release_process.ts";
import { detectService } from "./service_plan.ts";

/** Where an environment stands, or a new one when `port` is given. */
async function stateOf(o: DeployOptions): Promise<DeployState> {
  const folder = new EnvFolder(o.root, o.env);
  const state = await folder.read();
  if (state?.candidate) {
    throw new TroupeError(
      "invalid_spec",
      `a deploy of release ${state.candidate.release.id} to ${o.env} did not finish (it stopped at ` +
        `"${state.candidate.phase}"); run deploy --resume first`,
    );
  }
  if (state) {
    if (o.port !== undefined && o.port !== state.proxyPort) {
      throw new TroupeError(
        "invalid_spec",
        `${o.env} is served on port ${state.proxyPort}; leave out --port (or use another --env)`,
      );
    }
    return state;
  }
  if (o.port === undefined) {
    throw new TroupeError(
      "invalid_spec",
      `${o.env} has not been deployed to from ${o.root}: give --port, where its proxy listens`,
    );
  }
  return {
    env: o.env,
    host: o.host ?? "127.0.0.1",
    proxyPort: o.port,
    live: null,
    releases: [],
    candidate: null,
  };
}

/** The release a rollback by hand goes to: `previous` (the last before the live one) or an id. */
function releaseFor(state: DeployState, to: string): ReleaseRecord {
  const kept = state.releases.filter((r) => r.id !== state.live?.id);
  const found = to === "previous" ? kept.at(-1) : state.releases.find((r) => r.id === to);
  if (!found) {
    const ids = state.releases.map((r) => r.id).join(", ") || "none";
    throw new TroupeError(
      "invalid_spec",
      `no release ${to === "previous" ? "before the live one" : `"${to}"`} to roll ${state.env} ` +
        `back to (releases: ${ids})`,
    );
  }
  return found;
}

/**
 * Deploys a new release built from `repo` (or, with `rollbackTo`, one deployed before) to an
 * environment, blue-green: built, started on a free port, health-checked, switched to behind the
 * proxy with the live release as its backup, watched, then left serving alone. A release that
 * fails to build, start or pass its check is never switched to; one that fails its watch is
 * switched back from. Each step is a ledger event of the run `deploy-<release id>`.
 */
export async function deploy(o: DeployOptions): Promise<DeployOutcome> {
  const state = await stateOf(o);
  const rollback = o.rollbackTo !== undefined;
  if (!rollback && !o.repo) throw new TroupeError("invalid_spec", "give --repo (or --rollback)");
  const repo = o.repo ? resolve(o.repo) : null;
  const release: ReleaseRecord = rollback
    ? releaseFor(state, o.rollbackTo!)
    : { id: newReleaseId(), plan: await detectService(repo!), builtAt: Date.now() };
  const d = new Deployment(o, state, release);
  await d.record(DeployStarted, {
    ...d.ids,
    source: rollback ? "rollback" : "build",
    repo,
    plan: release.plan,
  });
  const refusal = await d.authorize();
  if (refusal) return await d.refuse(refusal);
  await d.save("building");
  if (!rollback) {
    const started = performance.now();
    const error = await d.build(repo!);
    await d.record(ReleaseBuilt, {
      ...d.ids,
      ok: !error,
      ms: Math.round(performance.now() - started),
      ...(error ? { error } : {}),
    });
    if (error) return await d.refuse(`its build failed: ${error}`);
  }
  const process = await d.startAndCheck();
  if (typeof process === "string") return await d.refuse(process);
  try {
    await d.switchTo(process);
  } catch (err) {
    // The proxy could not take it (its port taken, say): nothing was switched; the release goes.
    await stopRelease(process);
    return await d.refuse(`the proxy could not be switched to it: ${(err as Error).message}`);
  }
  return await d.watch(process);
}

/**
 * Finishes a deploy the deployer was killed in: a release switched to and still healthy is
 * watched again and kept; one not yet switched to, or gone, is stopped and the live release
 * left (or put back) alone behind the proxy. Either way one release serves.
 */
export async function resumeDeploy(o: DeployOptions): Promise<DeployOutcome | undefined> {
  const folder = new EnvFolder(o.root, o.env);
  const state = await folder.read();
  const candidate = state?.candidate;
  if (!state || !candidate) return undefined;
  const d = new Deployment(o, state, candidate.release);
  const process = candidate.process;
  if (candidate.phase === "switched" && process && await isRunning(process)) {
    await d.record(DeployResumed, { ...d.ids, phase: candidate.phase, action: "watched again" });
    return await d.watch(process);
  }
  const action = process ? "stopped: it was not switched to, or is gone" : "nothing was started";
  await d.record(DeployResumed, { ...d.ids, phase: candidate.phase, action });
  return process
    ? await d.rollBack(process, `the deploy was interrupted (${candidate.phase})`)
    : await d.refuse("the deploy was interrupted before its release started");
}

/** Stops an environment: its live release, a release in progress, and its proxy. */
export async function stopEnvironment(root: string, env: string): Promise<string[]> {
  const folder = new EnvFolder(root, env);
  const state = await folder.read();
  if (!state) return [];
  const stopped: string[] = [];
  for (const p of [state.live, state.candidate?.process]) {
    if (p && await isRunning(p)) {
      await stopRelease(p);
      stopped.push(p.id);
    }
  }
  await new NginxProxy(folder.proxyDir, state.proxyPort, state.host).stop();
  await folder.write({ ...state, live: null, candidate: null });
  return stopped;
}

/** An environment's state as `deploy --status` shows it, with whether each process runs. */
export async function environmentStatus(root: string, env: string) {
  const state = await new EnvFolder(root, env).read();
  if (!state) return undefined;
  return {
    ...state,
    url: urlOf(state),
    liveRunning: state.live ? await isRunning(state.live) : false,
  };
}
