import { recordSystem } from "../../ledger/mod.ts";
import { LedgerShipper } from "../../ledger/ledger_shipper.ts";
import { sha256Hex } from "../../runtime/sha256.ts";
import type { Ledger } from "../../ledger/mod.ts";
import {
  ActorSystem,
  type AgentFactory,
  type AgentSource,
  HealthMonitor,
} from "../../runtime/mod.ts";
import { ClusterNode } from "../../runtime/cluster_node.ts";
import { ClusterAgents } from "../../runtime/remote_agents.ts";
import type { RunEnvironment } from "./run_request.ts";
import { agentVersions } from "./agent_versions.ts";
import { startTeam, teamTemplates } from "./team.ts";

/** Where a run's team lives in a shared system: its supervisor and the prefix of its agents. */
export function teamOf(
  runId: string,
): { supervisor: string; prefix: string; owns(id: string): boolean } {
  const tag = runId.slice(-8);
  const supervisor = `team.${tag}`;
  const prefix = `${tag}.`;
  return { supervisor, prefix, owns: (id) => id === supervisor || id.startsWith(prefix) };
}

/** A run's team, where it runs: the system, its pools and health, and how its actors are named. */
export interface RunTeam {
  system: ActorSystem;
  agents: AgentSource;
  health: HealthMonitor;
  /** The supervisor the run's other actors (the gateway) go under, in a shared system. */
  supervisor?: string;
  /** The prefix of the run's actor ids. */
  prefix: string;
  /** Each agent's code version by template name (see `agentVersions`). */
  versions: Record<string, string>;
}

/**
 * Starts a run's team, with its events recorded under the run, calls `work`, and takes it all
 * down again: in the environment's shared system (the team under its own supervisor, removed at
 * the end) or in a system of the run's own (stopped at the end).
 */
export async function withRunTeam<T>(
  ledger: Ledger,
  run: { runId: string; repo: string; scratch: string; coder: boolean; maxAgents: number },
  env: RunEnvironment,
  work: (team: RunTeam) => Promise<T>,
): Promise<T> {
  const { runId, repo, scratch, coder, maxAgents } = run;
  const templates = teamTemplates(repo, scratch, {
    coder,
    modules: env.modules,
    replaying: !!env.reenact,
  });
  const versions = await agentVersions(templates);
  const shared = env.system;
  if (shared) {
    const { supervisor, prefix, owns } = teamOf(runId);
    // Disposed in reverse: the team leaves the system, then its recording stops.
    await using _recording = recording(recordSystem(shared, ledger, { runId, actors: owns }));
    await using _team = {
      [Symbol.asyncDispose]: async () => void await shared.remove(supervisor),
    };
    await using agents = await startTeam(shared, templates, { maxAgents, supervisor, prefix });
    using own = env.health ? undefined : new HealthMonitor(shared);
    const health = env.health ?? own!;
    if (!env.clusterNode) {
      return await work({ system: shared, agents, health, supervisor, prefix, versions });
    }
    const spread = spreadOver(env.clusterNode, agents, runId, { repo, scratch, coder });
    try {
      return await work({ system: shared, agents: spread, health, supervisor, prefix, versions });
    } finally {
      spread.close();
    }
  }
  // Disposed in reverse: the monitor, the pools, the system, then the recording of its events,
  // so that the system's last events are in the ledger too.
  const system = await ActorSystem.start();
  await using _recording = recording(recordSystem(system, ledger, { runId }));
  await using _system = system;
  await using agents = await startTeam(system, templates, { maxAgents });
  using health = new HealthMonitor(system);
  if (!env.cluster) return await work({ system, agents, health, prefix: "", versions });
  const tag = runId.slice(-8);
  const node = await ClusterNode.join(system, { servers: env.cluster.servers, node: `run-${tag}` });
  const local = env.cluster.localAgents === false ? undefined : agents;
  const spread = spreadOver(node, local, runId, { repo, scratch, coder }, agents);
  // This ledger's events go to the cluster's ledger stream too, under a name of its own.
  const shipper = await LedgerShipper.start(ledger, node.nc, {
    cluster: node.cluster,
    node: `ledger-${Deno.hostname().replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 20)}-${
      sha256Hex(ledger.path).slice(0, 8)
    }`,
  });
  try {
    return await work({ system, agents: spread, health, prefix: "", versions });
  } finally {
    spread.close();
    await ledger.flush();
    await shipper.caughtUp(10_000);
    await shipper.stop();
    await node.leave();
  }
}

/**
 * A run's agents over a cluster: the nodes that lease the repo-ops team make them from the same
 * arguments, so each has the run's repository and scratch folder and nothing else.
 */
function spreadOver(
  node: ClusterNode,
  local: AgentFactory | undefined,
  runId: string,
  args: RepoOpsArgs,
  team: AgentFactory = local!,
): ClusterAgents {
  return new ClusterAgents(node, local, {
    name: "repo-ops",
    key: runId.slice(-8),
    args,
    capabilities: team.capabilities(),
  });
}

/** What a node that leases the repo-ops team makes a run's agents from. */
export interface RepoOpsArgs {
  repo: string;
  scratch: string;
  coder: boolean;
}

/** The repo-ops team's templates for a run another node leases them for. */
export function repoOpsTeam(args: unknown) {
  const { repo, scratch, coder } = args as RepoOpsArgs;
  return teamTemplates(repo, scratch, { coder });
}

/** The system recorder's detach as something `await using` can dispose. */
function recording(detach: () => Promise<void>): AsyncDisposable {
  return { [Symbol.asyncDispose]: detach };
}
