import { join } from "node:path";
import { Ledger, recordSystem, verifyChain } from "../../ledger/mod.ts";
import { ActorSystem, defineActor } from "../../runtime/mod.ts";
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
  const kept = await runPromises(ledger, runId);
  return { runId, faults, tasks: kept.tasks, problems: [...problems, ...kept.problems] };
}

/** Runs `run_process.ts` with `args`; kills it with SIGKILL after `killAfterMs` if given. */
async function runProcess(args: string[], killAfterMs?: number) {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-run",
      "--allow-net=127.0.0.1",
      "--allow-ffi",
      "--allow-sys",
      "--quiet",
      new URL("./run_process.ts", import.meta.url).pathname,
      ...args,
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = killAfterMs === undefined
    ? undefined
    : setTimeout(() => child.kill("SIGKILL"), killAfterMs);
  const out = await child.output();
  clearTimeout(timer);
  const dec = new TextDecoder();
  return { ...out, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/**
 * A run whose whole process is SIGKILLed at a random moment, then resumed in a new process:
 * afterwards every task that started ended exactly once, the run finished once, and the chain
 * holds. Each ledger is its own file (one writer per ledger).
 */
export async function killedRun(
  scratch: string,
  repo: string,
  random: () => number,
): Promise<FaultRun> {
  const path = join(scratch, "ledger.duckdb");
  const first = await runProcess([path, repo, join(scratch, "out")], 300 + random() * 2_500);
  const killed = first.code !== 0 || !first.stdout.includes("finished");
  const runId = first.stdout.match(/started (\S+)/)?.[1];
  const problems: string[] = [];
  if (!runId) {
    // Killed before the run was in the ledger: nothing to resume, and nothing may be there.
    return { runId: "(none)", faults: killed ? 1 : 0, tasks: 0, problems };
  }
  if (killed) {
    const resumed = await runProcess([path, "--resume", runId]);
    if (!resumed.stdout.includes("finished")) {
      problems.push(`the resumed run did not finish: ${resumed.stderr.slice(-500)}`);
    }
  }
  const ledger = await Ledger.open(path, { readOnly: true });
  try {
    const kept = await runPromises(ledger, runId);
    return {
      runId,
      faults: killed ? 1 : 0,
      tasks: kept.tasks,
      problems: [...problems, ...kept.problems],
    };
  } finally {
    await ledger.close();
  }
}

/**
 * What a run must have left in the ledger, however it was interrupted: every task that started
 * ended exactly once (succeeded, dead or skipped), the run finished once, and the chain holds
 * with no gap in its sequence numbers. Also how many tasks started.
 */
async function runPromises(
  ledger: Ledger,
  runId: string,
): Promise<{ problems: string[]; tasks: number }> {
  const problems: string[] = [];
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
  const seqs = await ledger.query("SELECT count(*) AS n, max(seq) AS top FROM events");
  if (Number(seqs.rows[0].n) !== Number(seqs.rows[0].top)) {
    problems.push(`sequence numbers have gaps: ${seqs.rows[0].n} events up to ${seqs.rows[0].top}`);
  }
  const chain = await verifyChain(ledger);
  if (!chain.ok) problems.push(`the hash chain breaks at ${chain.seq}: ${chain.reason}`);
  return { problems, tasks: ends.rows.length };
}

/**
 * A restart storm: an actor that crashes on every message, under a supervisor allowing 3
 * restarts in 10 s. It crashes until the supervisor gives up and escalates; the system must stay
 * up (a fresh actor answers), and the storm must be in the ledger: each crash, each restart and
 * the escalation.
 */
export async function restartStorm(ledger: Ledger): Promise<FaultRun> {
  const runId = `storm-${crypto.randomUUID().slice(0, 8)}`;
  await using system = await ActorSystem.start();
  const stopRecording = recordSystem(system, ledger, { runId });
  const problems: string[] = [];
  let faults = 0;
  try {
    await system.supervise({
      id: "storm",
      intensity: 3,
      periodMs: 10_000,
      backoff: { minMs: 1, maxMs: 5, randomFactor: 0 },
      children: [{
        actor: {
          id: "crasher",
          isolation: "inline",
          behaviour: defineActor({
            receive: () => {
              throw new Error("crashing on every message");
            },
          }),
        },
      }],
    });
    const escalated = system.events.next((e) => e.type === "escalated", 30_000).then(
      () => true,
      () => false,
    );
    for (let i = 0; i < 50; i++) {
      if (await Promise.race([escalated, sleep(20).then(() => false)])) break;
      if (system.ref("crasher").tell("crash")) faults++;
    }
    await escalated;
    const probe = await system.spawn({
      id: "probe",
      isolation: "inline",
      behaviour: defineActor({ receive: () => "alive" }),
    });
    if (await probe.ask("ping").catch(() => "dead") !== "alive") {
      problems.push("the system stopped answering after the storm");
    }
  } finally {
    await stopRecording();
  }
  const seen = await ledger.query(
    `SELECT type, count(*) AS n FROM events WHERE run_id = '${runId}'
       AND type IN ('crashed', 'restarted', 'escalated') GROUP BY type`,
  );
  const count = (t: string) => Number(seen.rows.find((r) => r.type === t)?.n ?? 0);
  if (count("crashed") < 4) problems.push(`the ledger holds ${count("crashed")} of the crashes`);
  if (count("restarted") < 3) problems.push(`the ledger holds ${count("restarted")} restarts`);
  if (count("escalated") < 1) problems.push("the ledger holds no escalation");
  return { runId, faults, tasks: 0, problems };
}
