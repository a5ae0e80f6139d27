import type { z } from "zod";
import type { ActorRef } from "./actor_ref.ts";
import type { ActorSystem } from "./actor_system.ts";
import { AgentTemplate, type AgentTemplateInput, FactoryOptions } from "./agent_template.ts";
import { parseOrThrow, TroupeError } from "./errors.ts";

/** An agent checked out of its pool for one piece of work; release it when the work ends. */
export interface Lease {
  agent: ActorRef;
  /** Gives the agent back to its pool; calling it again does nothing. */
  release(): void;
}

interface Pool {
  template: AgentTemplate;
  members: Map<string, Member>;
  starting: number;
  serial: number;
  /** After a failed start, no new agent is tried before this time. */
  retryAt: number;
}

interface Member {
  id: string;
  leased: boolean;
  idleSince: number;
}

interface Waiter {
  capability: string;
  avoid?: string;
  settle(outcome: Member | Error): void;
}

/**
 * Makes agents from templates and keeps each template's pool between its minimum and maximum:
 * work is leased one agent at a time; when every agent of a capability is busy and work
 * waits, the pool grows (up to `maxAgents` over all pools), and agents idle for `idleMs` are
 * stopped down to the minimum. Each change is a `scaled` event, so it is in the ledger.
 */
export class AgentFactory {
  readonly options: z.output<typeof FactoryOptions>;
  readonly #pools: Pool[];
  readonly #waiters: Waiter[] = [];
  #timer?: number;

  private constructor(
    readonly system: ActorSystem,
    templates: AgentTemplate[],
    options: z.output<typeof FactoryOptions>,
  ) {
    this.options = options;
    this.#pools = templates.map((template) => ({
      template,
      members: new Map(),
      starting: 0,
      serial: 0,
      retryAt: 0,
    }));
  }

  /** Validates the templates, starts each pool's minimum and begins watching for idle agents. */
  static async start(
    system: ActorSystem,
    templates: AgentTemplateInput[],
    options: FactoryOptions = {},
  ): Promise<AgentFactory> {
    const o = parseOrThrow(FactoryOptions, options, "agent factory options");
    const parsed = templates.map((t, i) =>
      parseOrThrow(
        AgentTemplate,
        t,
        `agent template "${(t as { name?: string })?.name ?? `#${i + 1}`}"`,
      )
    );
    const names = parsed.map((t) => t.name);
    const twice = names.find((n, i) => names.indexOf(n) !== i);
    if (twice) throw invalid(`two agent templates are named "${twice}"; names must be unique`);
    const floor = parsed.reduce((sum, t) => sum + t.pool.min, 0);
    if (floor > o.maxAgents) {
      throw invalid(
        `the templates' pool minimums add up to ${floor} agents but maxAgents is ` +
          `${o.maxAgents}; lower a pool.min or raise maxAgents`,
      );
    }
    const factory = new AgentFactory(system, parsed, o);
    await system.supervise({
      id: o.supervisor,
      strategy: "one_for_one",
      intensity: 5,
      backoff: { minMs: 50, maxMs: 1000 },
    });
    for (const pool of factory.#pools) {
      for (let i = 0; i < pool.template.pool.min; i++) {
        const member = await factory.#grow(pool, "the pool's minimum");
        if (member instanceof Error) throw member;
      }
    }
    factory.#timer = system.clock.setInterval(() => factory.#tick(), o.tickMs);
    return factory;
  }

  /** Every capability some template offers. */
  capabilities(): string[] {
    return [...new Set(this.#pools.flatMap((p) => p.template.capabilities))];
  }

  /** True when some template offers `capability`. */
  offers(capability: string): boolean {
    return this.#pools.some((p) => p.template.capabilities.includes(capability));
  }

  /** Running agents, by pool name. */
  sizes(): Record<string, number> {
    return Object.fromEntries(this.#pools.map((p) => [p.template.name, p.members.size]));
  }

  /**
   * Checks out a free agent with `capability`, preferring one other than `avoid`; when all are
   * busy it waits, and the pool grows if it may. Rejects after `timeoutMs` without one.
   */
  lease(
    capability: string,
    options: { avoid?: string; timeoutMs?: number } = {},
  ): Promise<Lease> {
    if (!this.offers(capability)) {
      return Promise.reject(
        new TroupeError(
          "actor_not_found",
          `no agent template offers capability "${capability}"; templates offer: ${
            this.capabilities().join(", ")
          }`,
        ),
      );
    }
    const timeoutMs = options.timeoutMs ?? 30_000;
    const { promise, resolve, reject } = Promise.withResolvers<Lease>();
    const timer = this.system.clock.setTimeout(() => {
      this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
      reject(
        new TroupeError(
          "ask_timeout",
          `no agent with capability "${capability}" was free within ${timeoutMs} ms ` +
            `(pools: ${JSON.stringify(this.sizes())}, at most ${this.options.maxAgents} agents)`,
          { capability, timeoutMs },
        ),
      );
    }, timeoutMs);
    const waiter: Waiter = {
      capability,
      avoid: options.avoid,
      settle: (outcome) => {
        this.system.clock.clearTimeout(timer);
        if (outcome instanceof Error) return reject(outcome);
        resolve(this.#lease(outcome));
      },
    };
    this.#waiters.push(waiter);
    this.#serve();
    return promise;
  }

  /** `await using agents = await AgentFactory.start(…)` stops it at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    this.stop();
    return Promise.resolve();
  }

  /** Stops watching; waiting leases are refused. The agents stop with the system. */
  stop(): void {
    this.system.clock.clearInterval(this.#timer);
    for (const w of this.#waiters.splice(0)) {
      w.settle(new TroupeError("system_stopping", "the agent factory stopped"));
    }
  }

  #lease(member: Member): Lease {
    member.leased = true;
    let released = false;
    return {
      agent: this.system.ref(member.id),
      release: () => {
        if (released) return;
        released = true;
        member.leased = false;
        member.idleSince = this.system.clock.now();
        this.#serve();
      },
    };
  }

  /** Hands free agents to waiting work in order, then grows pools for the work still waiting. */
  #serve(): void {
    for (const w of [...this.#waiters]) {
      const member = this.#free(w.capability, w.avoid);
      if (!member) continue;
      this.#waiters.splice(this.#waiters.indexOf(w), 1);
      member.leased = true; // taken now, before another waiter can see it as free
      w.settle(member);
    }
    const waiting = new Map<string, number>();
    for (const w of this.#waiters) waiting.set(w.capability, (waiting.get(w.capability) ?? 0) + 1);
    for (const [capability, count] of waiting) {
      const pools = this.#pools.filter((p) => p.template.capabilities.includes(capability));
      let coming = pools.reduce((sum, p) => sum + p.starting, 0);
      for (const pool of pools) {
        while (coming < count && this.#mayGrow(pool)) {
          coming++;
          const busy = [...pool.members.values()].filter((m) => m.leased).length;
          this.#grow(
            pool,
            `${count} task(s) waiting for "${capability}", ${busy} of ${pool.members.size} busy`,
          ).then((member) => {
            if (member instanceof Error) this.#refuse(pool, member);
            else this.#serve();
          });
        }
      }
    }
  }

  #free(capability: string, avoid?: string): Member | undefined {
    const free: Member[] = [];
    for (const pool of this.#pools) {
      if (!pool.template.capabilities.includes(capability)) continue;
      for (const m of pool.members.values()) {
        const cell = this.system.registry.cell(m.id);
        if (!m.leased && cell?.status === "running" && cell.idle) free.push(m);
      }
    }
    return free.find((m) => m.id !== avoid) ?? free[0];
  }

  #mayGrow(pool: Pool): boolean {
    const total = this.#pools.reduce((sum, p) => sum + p.members.size + p.starting, 0);
    return pool.members.size + pool.starting < pool.template.pool.max &&
      total < this.options.maxAgents && this.system.clock.now() >= pool.retryAt;
  }

  async #grow(pool: Pool, reason: string): Promise<Member | Error> {
    const t = pool.template;
    const id = `${this.options.prefix}${t.name}-${++pool.serial}`;
    pool.starting++;
    try {
      await this.system.spawn({
        id,
        behaviour: t.behaviour,
        capabilities: t.capabilities,
        permissions: t.permissions,
        ...(t.args === undefined ? {} : { args: t.args }),
        mailbox: { capacity: t.limits.mailbox, overflow: "reject" },
        isolation: t.isolation,
        heartbeatMs: t.limits.heartbeatMs,
        unresponsiveAfterMs: t.limits.unresponsiveAfterMs,
        observeMessages: t.observeMessages,
      }, { supervisor: this.options.supervisor });
    } catch (err) {
      pool.retryAt = this.system.clock.now() + 1000;
      return new TroupeError(
        "init_failed",
        `agent "${id}" of template "${t.name}" failed to start: ${(err as Error).message}`,
        { actor: id, template: t.name },
      );
    } finally {
      pool.starting--;
    }
    const member: Member = { id, leased: false, idleSince: this.system.clock.now() };
    pool.members.set(id, member);
    this.system.events.emit({
      type: "scaled",
      actor: id,
      pool: t.name,
      direction: "up",
      size: pool.members.size,
      reason,
    });
    return member;
  }

  /** A pool that cannot start agents refuses the work that only it could take. */
  #refuse(pool: Pool, error: Error): void {
    for (const w of [...this.#waiters]) {
      if (!pool.template.capabilities.includes(w.capability)) continue;
      const others = this.#pools.some((p) =>
        p !== pool && p.template.capabilities.includes(w.capability) &&
        (p.members.size > 0 || this.#mayGrow(p))
      );
      if (others || pool.members.size > 0) continue;
      this.#waiters.splice(this.#waiters.indexOf(w), 1);
      w.settle(error);
    }
  }

  /** Stops agents idle too long (down to each pool's minimum), then retries waiting work. */
  #tick(): void {
    const t = this.system.clock.now();
    for (const pool of this.#pools) {
      for (const m of [...pool.members.values()]) {
        const cell = this.system.registry.cell(m.id);
        if (!cell) {
          pool.members.delete(m.id); // removed outside the factory, or its supervisor gave up
          continue;
        }
        if (m.leased || !cell.idle) m.idleSince = t;
        else if (
          t - m.idleSince >= this.options.idleMs && pool.members.size > pool.template.pool.min
        ) {
          pool.members.delete(m.id);
          this.system.events.emit({
            type: "scaled",
            actor: m.id,
            pool: pool.template.name,
            direction: "down",
            size: pool.members.size,
            reason: `idle for ${Math.round(t - m.idleSince)} ms`,
          });
          void this.system.remove(m.id, { deadlineMs: 2000 });
        }
      }
    }
    if (this.#waiters.length > 0) this.#serve();
  }
}

const invalid = (message: string) => new TroupeError("invalid_spec", message);
