import assert from "node:assert/strict";
import { Ledger, recordSystem } from "../../ledger/mod.ts";
import { Orchestrator, type RunOutcome } from "../../actors/orchestrator/orchestrator.ts";
import type { TaskPacketInput } from "../../actors/tasks/task_packet.ts";
import {
  type ActorSystem,
  AgentFactory,
  FakeClock,
  HealthMonitor,
  type HealthOptions,
  type SystemEvent,
  type TroupeError,
} from "../../runtime/mod.ts";
import { advanceUntil, eventually, fixture, RECORDER, withSystem } from "../helpers.ts";

const fast: HealthOptions = { intervalMs: 20, stuckAfterMs: 300, stallMs: 300, cooldownMs: 0 };

/**
 * Runs `fn` with a health monitor on a fresh system; both are always stopped. With a clock,
 * the monitor, ask timeouts and restart backoff read it, so the test moves time itself.
 */
function withMonitor(
  options: HealthOptions,
  fn: (system: ActorSystem, monitor: HealthMonitor) => Promise<void>,
  clock?: FakeClock,
): Promise<void> {
  return withSystem(async (system) => {
    const monitor = new HealthMonitor(system, options);
    try {
      await fn(system, monitor);
    } finally {
      monitor.stop();
    }
  }, { root: { backoff: { minMs: 1, maxMs: 5 } }, ...(clock ? { clock } : {}) });
}

const ofType = <T extends SystemEvent["type"]>(events: SystemEvent[], type: T) =>
  events.filter((e): e is Extract<SystemEvent, { type: T }> => e.type === type);

Deno.test("an actor that stays alive but never answers is restarted once an ask to it times out", () => {
  const clock = new FakeClock();
  return withMonitor(fast, async (system) => {
    const events = system.events.collect();
    const actor = await system.spawn({ id: "hung", behaviour: RECORDER });
    await actor.ask({ type: "rec", v: 1 });
    // `hold` awaits a timer: the worker keeps beating, so its watchdog sees nothing.
    const asked = actor.ask({ type: "hold", ms: 60_000 }, { timeoutMs: 200 }).catch((e) => e);
    await clock.tick(200);
    assert.equal((await asked as TroupeError).code, "ask_timeout");
    await clock.tick(250);
    assert.equal(ofType(events, "unhealthy").length, 0, "not before stuckAfterMs has passed");
    await advanceUntil(clock, () => ofType(events, "restarted").length === 1, "a restart");
    const [unhealthy] = ofType(events, "unhealthy");
    assert.equal(unhealthy.actor, "hung");
    assert.equal(unhealthy.signal, "stuck");
    assert.match(
      unhealthy.reason,
      /ask to it timed out (3\d\d) ms ago and it has finished nothing/,
    );
    const [crash] = ofType(events, "crashed");
    assert.match(crash.error.message, /restarted by the health monitor/);
    assert.equal(ofType(events, "unresponsive").length, 0);
    // A fresh incarnation answers again.
    assert.deepEqual((await actor.ask<{ seen: unknown[] }>({ type: "get" })).seen, []);
    events.stop();
  }, clock);
});

Deno.test("a nearly full mailbox that does not drain gets its actor restarted, and the queued messages are kept", () => {
  const clock = new FakeClock();
  return withMonitor(fast, async (system) => {
    const events = system.events.collect((e) => e.type === "unhealthy");
    const actor = await system.spawn({
      id: "jammed",
      behaviour: RECORDER,
      mailbox: { capacity: 10, overflow: "reject" },
    });
    actor.tell({ type: "hold", ms: 60_000 });
    for (let i = 0; i < 9; i++) actor.tell({ type: "rec", v: i });
    await clock.tick(20); // the monitor's first look
    await clock.tick(260);
    assert.equal(events.length, 0, "not before stallMs without progress");
    await advanceUntil(clock, () => events.length === 1, "the backlog to be noticed");
    const [e] = ofType(events, "unhealthy");
    assert.equal(e.signal, "backlog");
    assert.match(e.reason, /mailbox holds 9 of 10 messages/);
    await advanceUntil(
      clock,
      () => system.registry.cell("jammed")?.status === "running",
      "restart",
    );
    const { seen } = await actor.ask<{ seen: unknown[] }>({ type: "get" });
    assert.deepEqual(seen, [0, 1, 2, 3, 4, 5, 6, 7, 8]);
    events.stop();
  }, clock);
});

Deno.test("a busy actor making progress and a quiet idle one are left alone", () => {
  const clock = new FakeClock();
  return withMonitor(fast, async (system, monitor) => {
    const events = system.events.collect((e) => e.type === "unhealthy" || e.type === "crashed");
    const busy = await system.spawn({
      id: "busy",
      behaviour: RECORDER,
      mailbox: { capacity: 10, overflow: "reject" },
    });
    await system.spawn({ id: "quiet", behaviour: RECORDER });
    // A mailbox at its high-water mark, and 1500 ms without a pause, but one message is
    // finished every 150 ms: half of stallMs.
    for (let i = 0; i < 10; i++) busy.tell({ type: "hold", ms: 5 });
    const cell = system.registry.cell("busy")!;
    for (let done = 1; done <= 10; done++) {
      await eventually(() => cell.load().processed >= done, 10_000, `message ${done}`);
      await clock.tick(150);
    }
    await clock.tick(10 * 300); // and the quiet one stays quiet for ten stall periods
    assert.deepEqual([...events], []);
    const health = monitor.snapshot().find((h) => h.actor === "quiet")!;
    assert.equal(health.status, "running");
    assert.equal(health.mailbox, 0);
    assert.ok(health.heartbeatAgeMs !== null && health.heartbeatAgeMs < 3000);
    events.stop();
  }, clock);
});

/** Five tasks in a chain for an agent that wears out after two. */
const chain: TaskPacketInput[] = [1, 2, 3, 4, 5].map((n) => ({
  id: `t${n}`,
  kind: "wear",
  capability: "wear",
  inputs: { lifetime: 2 },
  dependsOn: n > 1 ? [`t${n - 1}`] : [],
  retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5 },
}));

async function runChain(health?: HealthOptions) {
  const ledger = await Ledger.open(":memory:");
  try {
    let outcome: RunOutcome | undefined;
    let unhealthy: SystemEvent[] = [];
    await withMonitor({ ...fast, maxFailures: 2, ...health }, async (system, monitor) => {
      const events = system.events.collect((e) => e.type === "unhealthy");
      const detach = recordSystem(system, ledger, { runId: "r" });
      const agents = await AgentFactory.start(system, [{
        name: "wearer",
        behaviour: fixture("pool_agent.ts"),
        capabilities: ["wear"],
      }], { tickMs: 20 });
      try {
        outcome = await new Orchestrator({
          system,
          ledger,
          runId: "r",
          agents,
          ...(health ? { health: monitor } : {}),
        }).run(chain);
      } finally {
        agents.stop();
        events.stop();
        unhealthy = events;
        await detach();
      }
    });
    const recorded = await ledger.select(
      "SELECT count(*)::INT AS n FROM events WHERE type = 'unhealthy'",
    );
    return { outcome: outcome!, unhealthy, recorded: recorded[0].n };
  } finally {
    await ledger.close();
  }
}

Deno.test("an agent whose tasks keep failing is restarted on the monitor's word, and the retry then succeeds", async () => {
  const without = await runChain();
  assert.deepEqual(without.outcome.dead.map((d) => d.taskId), ["t3"]);
  assert.match(without.outcome.dead[0].cause, /worn out after 2 tasks/);

  const watched = await runChain({});
  assert.deepEqual(watched.outcome.dead, []);
  assert.deepEqual([...watched.outcome.outputs.keys()], ["t1", "t2", "t3", "t4", "t5"]);
  assert.ok(watched.unhealthy.length >= 1);
  const first = ofType(watched.unhealthy, "unhealthy")[0];
  assert.equal(first.actor, "wearer-1");
  assert.equal(first.signal, "errors");
  assert.match(first.reason, /2 of its last 4 tasks failed/);
  assert.equal(watched.recorded, watched.unhealthy.length);
});

Deno.test("health monitor options are validated", () =>
  withSystem((system) => {
    assert.throws(
      () => new HealthMonitor(system, { intervalMs: 0, highWater: 2 }),
      (e: TroupeError) =>
        e.code === "invalid_spec" && /intervalMs/.test(e.message) && /highWater/.test(e.message),
    );
    return Promise.resolve();
  }));

Deno.test("a hang injected into a worker actor (awaiting what never settles) is restarted by the monitor", () =>
  withMonitor(fast, async (system) => {
    const actor = await system.spawn({ id: "hangs", behaviour: RECORDER });
    assert.equal(await actor.ask({ type: "rec", v: 1 }), 1);
    const crashed = system.events.next((e) => e.type === "crashed" && e.actor === "hangs", 30_000);
    assert.equal(system.registry.cell("hangs")!.injectFault("hang"), true);
    const asked = await actor.ask({ type: "rec", v: 2 }, { timeoutMs: 200 }).catch((e) => e);
    assert.equal((asked as TroupeError).code, "ask_timeout");
    const crash = (await crashed) as Extract<SystemEvent, { type: "crashed" }>;
    assert.match(crash.error.message, /restarted by the health monitor/);
    await system.events.next((e) => e.type === "restarted" && e.actor === "hangs", 30_000);
    assert.equal(await actor.ask({ type: "rec", v: 3 }), 1);
  }));
