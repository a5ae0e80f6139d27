import { join } from "node:path";
import { type Ledger, verifyChain } from "../../ledger/mod.ts";
import { ActorSystem } from "../../runtime/mod.ts";
import { RunSession, teamOf } from "../orchestrator/run_session.ts";

/** What one run under fire came to. */
export interface FaultRun {
  runId: string;
  /** Worker actors killed while the run went on. */
  faults: number;
  tasks: number;
  /** Every way the run broke a promise: a task ended twice or never, a gap, a broken chain. */
  problems: string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs the repo-ops team on `repo` in a system of its own while killing its worker actors at
 * random moments (`random` decides who and when, so a seed repeats a run's faults), then checks
 * what the run left in the ledger: every task that started ended exactly once (succeeded, dead
 * or skipped), the run finished, and the hash chain holds.
 */
export async function faultRun(
  ledger: Ledger,
  repo: string,
  scratch: string,
  random: () => number,
  meanGapMs: number,
  maxFaults: number,
): Promise<FaultRun> {
  await using system = await ActorSystem.start();
  const session = await RunSession.start(ledger, {
    repo,
    out: join(scratch, "out"),
    goal: "add CI to this repository",
  }, { system });
  const runId = session.runId;
  let faults = 0;
  let running = true;
  const done = session.run().finally(() => running = false);
  // Kill a random worker of this run's team, now and then, until the run ends (or enough were).
  while (running && faults < maxFaults) {
    await Promise.race([sleep(Math.round(random() * 2 * meanGapMs)), done.catch(() => {})]);
    if (!running) break;
    const team = teamOf(runId);
    const victims = system.registry.list().filter((e) =>
      team.owns(e.id) && e.id !== team.supervisor && e.status === "running" &&
      system.registry.cell(e.id)?.spec.isolation === "worker"
    );
    if (victims.length === 0) continue;
    const victim = victims[Math.floor(random() * victims.length)];
    if (system.registry.cell(victim.id)?.fail("chaos: killed at a random moment")) faults++;
  }
  const problems: string[] = [];
  try {
    await done;
  } catch (err) {
    problems.push(`the run itself failed: ${(err as Error).message}`);
  }
  const ends = await ledger.query(
    `SELECT s.task_id, count(e.task_id) AS ends
     FROM (SELECT DISTINCT json_extract_string(payload, '$.taskId') AS task_id FROM events
           WHERE run_id = '${runId}' AND type = 'task_started') s
     LEFT JOIN (SELECT json_extract_string(payload, '$.taskId') AS task_id FROM events
           WHERE run_id = '${runId}' AND type IN ('task_succeeded', 'task_dead', 'task_skipped')) e
       USING (task_id)
     GROUP BY s.task_id`,
  );
  for (const row of ends.rows) {
    if (Number(row.ends) !== 1) problems.push(`task ${row.task_id} ended ${row.ends} times`);
  }
  const finished = await ledger.query(
    `SELECT count(*) AS n FROM events WHERE run_id = '${runId}' AND type = 'run_finished'`,
  );
  if (Number(finished.rows[0].n) !== 1) {
    problems.push(`the run finished ${finished.rows[0].n} times`);
  }
  const chain = await verifyChain(ledger);
  if (!chain.ok) problems.push(`the hash chain breaks at ${chain.seq}: ${chain.reason}`);
  return { runId, faults, tasks: ends.rows.length, problems };
}
