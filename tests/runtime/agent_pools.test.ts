import assert from "node:assert/strict";
import { recordSystem } from "../../ledger/mod.ts";
import { Orchestrator } from "../../actors/orchestrator/orchestrator.ts";
import type { TaskPacketInput } from "../../actors/tasks/task_packet.ts";
import {
  type ActorSystem,
  AgentFactory,
  type AgentTemplateInput,
  type FactoryOptions,
  FakeClock,
  type SystemEvent,
  type TroupeError,
} from "../../runtime/mod.ts";
import { eventually, fixture, withSystem } from "../helpers.ts";
import { withLedger } from "../ledger_helpers.ts";

const AGENT = fixture("pool_agent.ts");

const template = (name: string, capability: string, pool: { min: number; max: number }) => ({
  name,
  behaviour: AGENT,
  capabilities: [capability],
  pool,
});

const work = (id: string, capability: string, ms: number): TaskPacketInput => ({
  id,
  kind: "work",
  capability,
  inputs: { ms },
});

/** Runs `fn` with an agent factory on a fresh system; everything is stopped afterwards. */
function withFactory(
  templates: AgentTemplateInput[],
  options: FactoryOptions,
  fn: (system: ActorSystem, agents: AgentFactory) => Promise<void>,
  before: (system: ActorSystem) => void = () => {},
  clock?: FakeClock,
): Promise<void> {
  return withSystem(async (system) => {
    before(system);
    const agents = await AgentFactory.start(system, templates, { tickMs: 20, ...options });
    try {
      await fn(system, agents);
    } finally {
      agents.stop();
    }
  }, clock ? { clock } : {});
}

/** The most agents of the factory that were running at once, from the event stream. */
function peakAgents(system: ActorSystem): { peak: number; stop(): void } {
  let now = 0;
  const tracker = { peak: 0, stop: () => {} };
  tracker.stop = system.events.subscribe((e: SystemEvent) => {
    if (e.type !== "scaled") return;
    now += e.direction === "up" ? 1 : -1;
    tracker.peak = Math.max(tracker.peak, now);
  });
  return tracker;
}

Deno.test("a pool grows while tasks wait, up to its maximum, and idle agents are stopped down to its minimum; all in the ledger", () =>
  withLedger((ledger) => {
    // Idleness is measured on a clock the test moves: no agent can idle out during the run.
    const clock = new FakeClock();
    let detach = () => Promise.resolve();
    let peak = { peak: 0, stop() {} };
    return withFactory(
      [template("builder", "build", { min: 1, max: 3 })],
      { idleMs: 300 },
      async (system, agents) => {
        const outcome = await new Orchestrator({
          system,
          ledger,
          runId: "r",
          agents,
          maxParallel: 6,
        })
          .run(["a", "b", "c", "d", "e", "f"].map((id) => work(id, "build", 300)));
        assert.equal(outcome.outputs.size, 6);
        assert.equal(peak.peak, 3);
        assert.deepEqual(agents.sizes(), { builder: 3 });
        const started = await ledger.select(
          "SELECT DISTINCT actor FROM events WHERE type = 'task_started' ORDER BY actor",
        );
        assert.deepEqual(started.map((r) => r.actor), ["builder-1", "builder-2", "builder-3"]);

        await clock.tick(280);
        assert.deepEqual(agents.sizes(), { builder: 3 }, "none idle for 300 ms yet");
        await clock.tick(40);
        await eventually(() => agents.sizes().builder === 1, 5000, "idle agents to stop");
        await eventually(() => system.registry.list().length === 1, 5000, "workers to stop");
        await detach();
        const scaled = await ledger.select(
          `SELECT actor, payload->>'direction' AS direction, payload->>'size' AS size,
                  payload->>'reason' AS reason
             FROM events WHERE type = 'scaled' ORDER BY seq`,
        );
        // builder-2 and builder-3 may start together, in either order.
        const up = scaled.slice(0, 3);
        assert.deepEqual(up.map((r) => r.direction), ["up", "up", "up"]);
        assert.deepEqual(up.map((r) => r.actor).sort(), ["builder-1", "builder-2", "builder-3"]);
        assert.deepEqual(up.map((r) => r.size).sort(), ["1", "2", "3"]);
        assert.equal(scaled[0].reason, "the pool's minimum");
        for (const r of up.slice(1)) {
          assert.match(String(r.reason), /task\(s\) waiting for "build", \d of \d busy/);
        }
        const down = scaled.slice(3);
        assert.equal(down.length, 2);
        assert.deepEqual(down.map((r) => r.direction), ["down", "down"]);
        assert.deepEqual(down.map((r) => r.size), ["2", "1"]);
        for (const r of down) assert.match(String(r.reason), /^idle for 3\d\d ms$/);
      },
      (system) => {
        detach = recordSystem(system, ledger, { runId: "r" });
        peak = peakAgents(system);
      },
      clock,
    );
  }));

Deno.test("pools together never run more agents than the factory's maximum, and every task still runs", () => {
  let peak = { peak: 0, stop() {} };
  return withFactory(
    [template("a", "cap.a", { min: 1, max: 5 }), template("b", "cap.b", { min: 1, max: 5 })],
    { maxAgents: 3 },
    async (system, agents) => {
      await withLedger(async (ledger) => {
        const plan = [1, 2, 3, 4].flatMap((n) => [
          work(`a${n}`, "cap.a", 150),
          work(`b${n}`, "cap.b", 150),
        ]);
        const outcome = await new Orchestrator({
          system,
          ledger,
          runId: "r",
          agents,
          maxParallel: 8,
        })
          .run(plan);
        assert.equal(outcome.outputs.size, 8);
        assert.deepEqual(outcome.dead, []);
      });
      peak.stop();
      assert.equal(peak.peak, 3);
      const { a, b } = agents.sizes();
      assert.equal(a + b, 3);
    },
    (system) => peak = peakAgents(system),
  );
});

Deno.test("a pool with minimum 0 starts its first agent when work arrives; a lease waits for a busy agent", () => {
  const clock = new FakeClock();
  return withFactory(
    [template("lazy", "lazy", { min: 0, max: 1 })],
    {},
    async (system, agents) => {
      assert.deepEqual(agents.sizes(), { lazy: 0 });
      assert.deepEqual(agents.capabilities(), ["lazy"]);
      const first = await agents.lease("lazy");
      assert.equal(first.agent.id, "lazy-1");
      assert.deepEqual(agents.sizes(), { lazy: 1 });
      const second = agents.lease("lazy", { timeoutMs: 5000 });
      let handed = false;
      second.then(() => handed = true, () => {});
      await clock.tick(4999); // the whole wait, but for a millisecond
      assert.equal(handed, false, "the only agent is leased");
      assert.deepEqual(agents.sizes(), { lazy: 1 }, "the pool is at its maximum");
      first.release();
      const lease = await second;
      assert.equal(lease.agent.id, "lazy-1");
      const third = agents.lease("lazy", { timeoutMs: 100 }).catch((e) => e);
      await clock.tick(100);
      const refused = await third as TroupeError;
      assert.equal(refused.code, "ask_timeout");
      assert.match(refused.message, /no agent with capability "lazy" was free within 100 ms/);
      lease.release();
      await assert.rejects(
        agents.lease("fly"),
        /no agent template offers capability "fly"; templates offer: lazy/,
      );
      assert.equal(system.registry.list().length, 1);
    },
    undefined,
    clock,
  );
});

Deno.test("bad templates are refused with what is wrong; an agent that cannot start refuses its work", () =>
  withSystem(async (system) => {
    await assert.rejects(
      AgentFactory.start(system, [
        { ...template("x", "x", { min: 3, max: 1 }), permissions: { disk: true } },
      ] as unknown as AgentTemplateInput[]),
      (e: TroupeError) =>
        e.code === "invalid_spec" && /agent template "x"/.test(e.message) &&
        /pool\.min must not exceed pool\.max/.test(e.message) && /disk/.test(e.message),
    );
    await assert.rejects(
      AgentFactory.start(system, [
        template("x", "x", { min: 1, max: 1 }),
        template("x", "y", { min: 0, max: 1 }),
      ]),
      /two agent templates are named "x"/,
    );
    await assert.rejects(
      AgentFactory.start(system, [
        template("x", "x", { min: 6, max: 6 }),
        template("y", "y", { min: 5, max: 5 }),
      ]),
      /pool minimums add up to 11 agents but maxAgents is 10/,
    );
    const agents = await AgentFactory.start(system, [{
      name: "broken",
      behaviour: fixture("failing_init.ts"),
      capabilities: ["broken"],
      pool: { min: 0, max: 1 },
    }], { supervisor: "broken-pool" });
    try {
      await assert.rejects(
        agents.lease("broken", { timeoutMs: 5000 }),
        /agent "broken-1" of template "broken" failed to start/,
      );
      assert.deepEqual(agents.sizes(), { broken: 0 });
    } finally {
      agents.stop();
    }
  }));
