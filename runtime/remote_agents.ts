import { deserialize, serialize } from "node:v8";
import type { ActorRef } from "./actor_ref.ts";
import { AgentFactory, type Lease } from "./agent_factory.ts";
import type { AgentTemplateInput } from "./agent_template.ts";
import type { ClusterNode } from "./cluster_node.ts";
import { TroupeError } from "./errors.ts";

/** Where agents are leased from: an `AgentFactory`, or `ClusterAgents` over several nodes. */
export interface AgentSource {
  /** Every capability it can lease an agent for. */
  capabilities(): string[];
  /** True when it can lease an agent for `capability`. */
  offers(capability: string): boolean;
  /** A free agent for `capability`, preferring one other than `avoid`, within `timeoutMs`. */
  lease(capability: string, options?: { avoid?: string; timeoutMs?: number }): Promise<Lease>;
}

/** A team a node leases agents of: its templates, made from the arguments a lease brings. */
export type TeamMaker = (args: unknown) => AgentTemplateInput[];

type LeaseOp =
  | {
    op: "lease";
    team: string;
    key: string;
    args: unknown;
    capability: string;
    avoid?: string;
    timeoutMs: number;
  }
  | { op: "release"; lease: string }
  | { op: "close"; key: string };

type LeaseReply = { ok: true; agent: string; lease: string } | { ok: false; error: string };

/**
 * Lets other nodes lease agents of `teams` on this node (subject `….lease.NODE`): the first
 * lease for a key (a run) starts a factory of that team's templates, made from the lease's
 * arguments (its repository, its scratch folder: each agent gets only those permissions), and
 * later ones share it; `close` stops it. The node advertises the teams in its registry entry.
 */
export function serveTeams(node: ClusterNode, teams: Record<string, TeamMaker>): void {
  const factories = new Map<string, Promise<AgentFactory>>();
  const leases = new Map<string, Lease>();
  const system = node.system;
  node.teams = Object.keys(teams);
  const supervisor = (key: string) => `lease.${key}`;
  node.nc.subscribe(`${node.prefix}.lease.${node.id}`, {
    callback: (err, msg) => {
      if (err) return;
      const m = deserialize(msg.data) as LeaseOp;
      const answer = (r: LeaseReply) => void msg.respond(serialize(r));
      if (m.op === "release") {
        leases.get(m.lease)?.release();
        leases.delete(m.lease);
        return;
      }
      if (m.op === "close") {
        const f = factories.get(m.key);
        factories.delete(m.key);
        void f?.then((factory) => {
          factory.stop();
          return system.remove(supervisor(m.key));
        }).catch(() => {});
        return;
      }
      const make = teams[m.team];
      if (!make) return answer({ ok: false, error: `node ${node.id} offers no team "${m.team}"` });
      let factory = factories.get(m.key);
      if (!factory) {
        factory = AgentFactory.start(system, make(m.args), {
          supervisor: supervisor(m.key),
          prefix: `${m.key}.${node.id}.`,
        });
        factories.set(m.key, factory);
        factory.catch(() => factories.delete(m.key));
      }
      factory.then((f) => f.lease(m.capability, { avoid: m.avoid, timeoutMs: m.timeoutMs }))
        .then((lease) => {
          const id = crypto.randomUUID();
          leases.set(id, lease);
          answer({ ok: true, agent: lease.agent.id, lease: id });
        }, (err: Error) => answer({ ok: false, error: err.message }));
    },
  });
}

/**
 * A run's agents across a cluster: its own node's factory (when it has one) and every node that
 * leases the run's team. Each lease goes to the node holding the fewest of this run's leases,
 * so that a run's tasks spread over the nodes; a retry (`avoid`) goes to another node when
 * there is one; a node that cannot lease (gone, refusing) is passed over for the next.
 */
export class ClusterAgents implements AgentSource {
  readonly #active = new Map<string, number>();
  readonly #used = new Set<string>();
  #turn = 0;

  constructor(
    readonly node: ClusterNode,
    readonly local: AgentFactory | undefined,
    readonly team: { name: string; key: string; args: unknown; capabilities: string[] },
  ) {}

  /** The team's capabilities (every node makes the same templates). */
  capabilities(): string[] {
    return this.team.capabilities;
  }

  /** True when the team has an agent for `capability`. */
  offers(capability: string): boolean {
    return this.team.capabilities.includes(capability);
  }

  /** An agent for `capability` on the least-used node (another than `avoid`'s when there is one). */
  async lease(
    capability: string,
    options: { avoid?: string; timeoutMs?: number } = {},
  ): Promise<Lease> {
    const timeoutMs = options.timeoutMs ?? 30_000;
    const avoided = options.avoid ? this.#nodeOf(options.avoid) : undefined;
    const remote = this.node.nodes().filter((n) =>
      n.node !== this.node.id && n.teams?.includes(this.team.name)
    ).map((n) => n.node);
    let candidates = [...(this.local?.offers(capability) ? [this.node.id] : []), ...remote];
    if (candidates.length > 1 && avoided) candidates = candidates.filter((n) => n !== avoided);
    const turn = this.#turn++;
    candidates.sort((a, b) =>
      (this.#active.get(a) ?? 0) - (this.#active.get(b) ?? 0) ||
      candidates.indexOf(a) - candidates.indexOf(b)
    );
    // Equally loaded nodes take turns.
    const least = candidates.filter((n) =>
      (this.#active.get(n) ?? 0) === (this.#active.get(candidates[0]) ?? 0)
    );
    const order = [...least.slice(turn % least.length), ...least.slice(0, turn % least.length)];
    const problems: string[] = [];
    for (const n of [...order, ...candidates.filter((c) => !least.includes(c))]) {
      try {
        return this.#count(n, await this.#leaseOn(n, capability, options.avoid, timeoutMs));
      } catch (err) {
        problems.push(`${n}: ${(err as Error).message}`);
      }
    }
    throw new TroupeError(
      "actor_not_found",
      `no node could lease an agent with capability "${capability}"` +
        (problems.length ? `: ${problems.join("; ")}` : " (none offers the team)"),
      { capability },
    );
  }

  /** Closes the run's team on every node that leased from it. */
  close(): void {
    for (const n of this.#used) {
      this.node.nc.publish(
        `${this.node.prefix}.lease.${n}`,
        serialize({ op: "close", key: this.team.key } satisfies LeaseOp),
      );
    }
  }

  #count(node: string, lease: Lease): Lease {
    this.#active.set(node, (this.#active.get(node) ?? 0) + 1);
    let released = false;
    return {
      agent: lease.agent,
      release: () => {
        if (released) return;
        released = true;
        this.#active.set(node, (this.#active.get(node) ?? 1) - 1);
        lease.release();
      },
    };
  }

  /** The node an agent of this run is on (remote agents' ids carry it). */
  #nodeOf(agent: string): string {
    // KEY.NODE.NAME on another node; KEY.NAME or NAME in this one's own team.
    const prefix = `${this.team.key}.`;
    const rest = agent.startsWith(prefix) ? agent.slice(prefix.length) : "";
    return rest.includes(".") ? rest.split(".")[0] : this.node.id;
  }

  async #leaseOn(
    node: string,
    capability: string,
    avoid: string | undefined,
    timeoutMs: number,
  ): Promise<Lease> {
    if (node === this.node.id) return await this.local!.lease(capability, { avoid, timeoutMs });
    const { team } = this;
    const op: LeaseOp = {
      op: "lease",
      team: team.name,
      key: team.key,
      args: team.args,
      capability,
      ...(avoid ? { avoid } : {}),
      timeoutMs,
    };
    this.#used.add(node);
    const msg = await Promise.race([
      this.node.nc.request(`${this.node.prefix}.lease.${node}`, serialize(op), {
        timeout: timeoutMs + 5_000,
      }),
      this.node.gone(node),
    ]);
    const reply = deserialize(msg.data) as LeaseReply;
    if (!reply.ok) throw new Error(reply.error);
    this.node.hold(reply.agent, node);
    const agent: ActorRef = this.node.system.ref(reply.agent);
    return {
      agent,
      release: () =>
        this.node.nc.publish(
          `${this.node.prefix}.lease.${node}`,
          serialize({ op: "release", lease: reply.lease } satisfies LeaseOp),
        ),
    };
  }
}
