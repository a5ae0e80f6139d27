import { z } from "zod";
import assert from "node:assert/strict";
import { Ledger } from "../../ledger/mod.ts";
import { defineAgent } from "../../actors/tasks/define_agent.ts";
import { Orchestrator } from "../../actors/orchestrator/orchestrator.ts";
import type { PlanError } from "../../actors/tasks/plan_error.ts";
import { validatePlan } from "../../actors/tasks/task_graph.ts";
import { ApprovalDesk, newKey, PolicyEngine, readKeyFile, signVote } from "../../policies/mod.ts";
import type { ActorSystem } from "../../runtime/mod.ts";
import { withSystem } from "../helpers.ts";

const CAPS = new Set(["work"]);

Deno.test("cycles, unknown capabilities, missing dependencies and invalid packets are refused before anything runs", () => {
  assert.throws(
    () =>
      validatePlan([
        { id: "a", kind: "k", capability: "work", dependsOn: ["c"] },
        { id: "b", kind: "k", capability: "work", dependsOn: ["a"] },
        { id: "c", kind: "k", capability: "work", dependsOn: ["b"] },
        { id: "d", kind: "k", capability: "fly" },
        { id: "e", kind: "k", capability: "work", dependsOn: ["ghost"] },
        { id: "Bad Id", kind: "k", capability: "work" },
        { id: "f", kind: "k", capability: "work", timeoutMs: -1 },
      ], CAPS),
    (e: PlanError) => {
      const text = e.problems.join("\n");
      assert.match(text, /a, b, c form a dependency cycle/);
      assert.match(text, /task d: no agent has capability "fly"/);
      assert.match(text, /task e: depends on "ghost"/);
      assert.match(text, /task Bad Id: .*lowercase id/s);
      assert.match(text, /task f: .*timeoutMs/s);
      return true;
    },
  );
  assert.deepEqual(
    validatePlan([
      { id: "z", kind: "k", capability: "work", dependsOn: ["y"] },
      { id: "y", kind: "k", capability: "work" },
    ], CAPS).map((t) => t.id),
    ["y", "z"],
  );
});

/** The ledger outlives the system, which records into it until it has stopped. */
async function withLedgerAround(fn: (ledger: Ledger) => Promise<void>): Promise<void> {
  const ledger = await Ledger.open(":memory:");
  try {
    await fn(ledger);
  } finally {
    await ledger.close();
  }
}

// Attempts per task survive the agent's restarts: the agent is inline and this map is module state.
const attempts = new Map<string, number>();
const spawnWorker = (system: ActorSystem, id: string, capability: string) =>
  system.spawn({ id, behaviour: worker, isolation: "inline", capabilities: [capability] });

const KINDS = {
  echo: { capability: "work", inputs: z.object({ value: z.unknown() }) },
  flaky: { capability: "work", inputs: z.object({ name: z.string(), failures: z.number() }) },
  hang: { capability: "slow", inputs: z.object({}) },
};
const worker = defineAgent(import.meta.url, KINDS, {
  echo: (inputs, deps) => ({ value: inputs.value, deps: Object.keys(deps) }),
  flaky: (inputs) => {
    const n = (attempts.get(inputs.name) ?? 0) + 1;
    attempts.set(inputs.name, n);
    if (n <= inputs.failures) throw new Error(`flaky failure ${n}`);
    return { succeededOn: n };
  },
  hang: () => new Promise(() => {}),
});

Deno.test("retries with backoff, dead letters with their cause, dependents skipped with a reason, all in the ledger", () =>
  withLedgerAround((ledger) =>
    withSystem(async (system) => {
      attempts.clear();
      await spawnWorker(system, "w2", "slow");
      await spawnWorker(system, "w1", "work");
      {
        const retry = { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5 };
        const outcome = await new Orchestrator({
          system,
          ledger,
          runId: "r1",
        }).run([
          { id: "a", kind: "echo", capability: "work", inputs: { value: 1 } },
          {
            id: "b",
            kind: "flaky",
            capability: "work",
            dependsOn: ["a"],
            inputs: { name: "b", failures: 2 },
            retry,
          },
          { id: "c", kind: "echo", capability: "work", dependsOn: ["b"], inputs: { value: 3 } },
          {
            id: "d",
            kind: "flaky",
            capability: "work",
            inputs: { name: "d", failures: 99 },
            retry,
          },
          { id: "e", kind: "echo", capability: "work", dependsOn: ["d"] },
          { id: "f", kind: "echo", capability: "work", dependsOn: ["e"] },
          {
            id: "g",
            kind: "hang",
            capability: "slow",
            timeoutMs: 100,
            retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1 },
          },
        ]);
        assert.deepEqual(outcome.outputs.get("b"), { succeededOn: 3 });
        assert.deepEqual(outcome.outputs.get("c"), { value: 3, deps: ["b"] });
        assert.deepEqual(
          outcome.dead.map((d) => [d.taskId, d.attempts]).sort(),
          [["d", 3], ["g", 2]],
        );
        assert.match(outcome.dead.find((d) => d.taskId === "d")!.cause, /flaky failure 3/);
        assert.match(
          outcome.dead.find((d) => d.taskId === "g")!.cause,
          /no reply within 100 ms/,
        );
        assert.deepEqual(outcome.skipped, [
          { taskId: "e", reason: "depends on d, which did not complete" },
          { taskId: "f", reason: "depends on e, which did not complete" },
        ]);
        const rows = await ledger.select(
          "SELECT type, payload->>'taskId' AS task, count(*)::INT AS n FROM events WHERE run_id = 'r1' GROUP BY ALL ORDER BY ALL",
        );
        const count = (type: string, task: string) =>
          rows.find((r) => r.type === type && r.task === task)?.n ?? 0;
        assert.equal(count("task_failed", "b"), 2);
        assert.equal(count("task_succeeded", "b"), 1);
        assert.equal(count("task_dead", "d"), 1);
        assert.equal(count("task_skipped", "f"), 1);
      }
    })
  ));

Deno.test("completed tasks given to a resumed run are not done again", () =>
  withLedgerAround((ledger) =>
    withSystem(async (system) => {
      attempts.clear();
      await spawnWorker(system, "w1", "work");
      {
        const outcome = await new Orchestrator({
          system,
          ledger,
          runId: "r2",
          completed: new Map([["a", { value: "from before" }]]),
        }).run([
          { id: "a", kind: "flaky", capability: "work", inputs: { name: "a", failures: 0 } },
          { id: "b", kind: "echo", capability: "work", dependsOn: ["a"], inputs: { value: 2 } },
        ]);
        assert.equal(attempts.get("a"), undefined);
        assert.deepEqual(outcome.outputs.get("a"), { value: "from before" });
        assert.deepEqual(outcome.outputs.get("b"), { value: 2, deps: ["a"] });
      }
    })
  ));

Deno.test("a task that policy says needs approval waits for it while other tasks run; a rejected one is dead-lettered", async () => {
  const dir = await Deno.makeTempDir({ prefix: "troupe-gate-" });
  try {
    await newKey(dir, "alice", "approver");
    const alice = await readKeyFile(`${dir}/alice.key.json`);
    await withLedgerAround((ledger) =>
      withSystem(async (system) => {
        attempts.clear();
        await spawnWorker(system, "w1", "work");
        const desk = await ApprovalDesk.open({
          ledger,
          dir: `${dir}/inbox`,
          keyDir: dir,
          pollMs: 10,
        });
        const policy = new PolicyEngine([{
          name: "gates",
          rules: [
            { id: "echo", match: { action: "task.echo" }, effect: "allow" },
            {
              id: "risky",
              match: { action: "task.flaky" },
              effect: "require_approval",
              approval: { roles: ["approver"], threshold: 1 },
            },
          ],
        }]);
        const seen: string[] = [];
        const outcome = await new Orchestrator({
          system,
          ledger,
          runId: "r3",
          policy,
          approvals: desk,
          onProgress: (p) => seen.push(p.event),
          onApprovalNeeded: async (request) => {
            const decision = request.summary.includes("task yes") ? "approve" : "reject";
            const vote = await signVote(alice, request, decision, "not today");
            await Deno.writeTextFile(
              `${dir}/inbox/${request.id}/alice.vote.json`,
              JSON.stringify(vote),
            );
          },
        }).run([
          { id: "yes", kind: "flaky", capability: "work", inputs: { name: "yes", failures: 0 } },
          { id: "no", kind: "flaky", capability: "work", inputs: { name: "no", failures: 0 } },
          { id: "free", kind: "echo", capability: "work", inputs: { value: 1 } },
        ]);
        assert.deepEqual(outcome.outputs.get("yes"), { succeededOn: 1 });
        assert.deepEqual(outcome.outputs.get("free"), { value: 1, deps: [] });
        assert.equal(attempts.get("no"), undefined, "a rejected task never reaches an agent");
        assert.match(
          outcome.dead[0].cause,
          /^policy: approval apr-\S+ rejected by alice: not today$/,
        );
        assert.ok(
          seen.indexOf("free done") < seen.findIndex((e) => e.startsWith("yes started")),
          "the task without a gate did not wait for the gated ones",
        );
      })
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
