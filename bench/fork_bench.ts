/**
 * Forking a big run: a fork from the middle of a run of 100,000 events (its reused tasks recorded
 * in the fork, the session ready to go on), next to reading that run's events raw from DuckDB in
 * the same run. Target: under a second.
 */
import { DuckDBInstance } from "@duckdb/node-api";
import { forkRun, RunStarted, TaskStarted, TaskSucceeded } from "../actors/mod.ts";
import { Ledger } from "../ledger/mod.ts";
import type { Section } from "./figure.ts";

const RUN = "run-bench-parent";

/** A run of `tasks` tasks, each a start, a success and 98 delivered messages: 100 events a task. */
async function bigRun(path: string, tasks: number): Promise<number> {
  const ledger = await Ledger.open(path);
  await ledger.record(RunStarted, {
    runId: RUN,
    actor: "orchestrator",
    payload: {
      goal: "bench",
      repo: "/nowhere",
      out: "/nowhere/out",
      runTests: false,
      date: "2026-01-01",
      autonomy: 3,
      policies: [],
      compliance: [],
      apply: false,
    },
  });
  const payload = { messageType: "plan", priority: "normal", from: "orchestrator" };
  for (let t = 0; t < tasks; t++) {
    const task = { taskId: `t${t}`, kind: "scan" };
    await Promise.all([
      ledger.record(TaskStarted, {
        runId: RUN,
        actor: "scanner",
        payload: { ...task, attempt: 1 },
      }),
      ...Array.from(
        { length: 98 },
        () => ledger.append({ runId: RUN, actor: "scanner", type: "delivered", payload }),
      ),
      ledger.record(TaskSucceeded, {
        runId: RUN,
        actor: "scanner",
        payload: { ...task, attempt: 1, durationMs: 5, idempotencyKey: `k${t}`, output: { n: t } },
      }),
    ]);
  }
  const events = ledger.head.seq;
  await ledger.close();
  return events;
}

/** The fork's time next to a raw read of the parent's events; `quick`: tiny sizes. */
export async function benchFork(quick = false): Promise<Section> {
  const tasks = quick ? 20 : 1_000;
  const dir = await Deno.makeTempDir({ prefix: "troupe-bench-fork-" });
  try {
    const path = `${dir}/ledger.duckdb`;
    const events = await bigRun(path, tasks);
    const raw = await (async () => {
      const instance = await DuckDBInstance.create(path);
      const conn = await instance.connect();
      const start = performance.now();
      await conn.runAndReadAll(`SELECT * FROM events WHERE run_id = '${RUN}' ORDER BY seq`);
      const ms = performance.now() - start;
      conn.closeSync();
      instance.closeSync();
      return ms;
    })();
    const ledger = await Ledger.open(path);
    const start = performance.now();
    const fork = await forkRun(ledger, RUN, { at: `t${tasks / 2}`, out: `${dir}/fork` });
    const ms = performance.now() - start;
    if (fork.completed.size !== tasks / 2) throw new Error("the fork did not reuse half the run");
    await ledger.close();
    const size = `${Math.round(events / 1000)}k`;
    return {
      figures: [
        {
          name: `fork from the middle of a ${size}-event run (ready to go on)`,
          value: ms,
          unit: "ms",
          target: "< 1000",
        },
        { name: `read the ${size}-event run raw from DuckDB`, value: raw, unit: "ms" },
      ],
      ratios: [[
        `fork from the middle of a ${size}-event run (ready to go on)`,
        `read the ${size}-event run raw from DuckDB`,
        "",
      ]],
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
