import { cp } from "node:fs/promises";
import { join } from "node:path";
import { Ledger, recordSystem, verifyChain } from "../ledger/mod.ts";
import { ActorSystem, defineActor, type Fault } from "../runtime/mod.ts";
import { RunSession, teamOf } from "../actors/mod.ts";

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
 * Starts a run of the repo-ops team on `repo` in `system`. `done` settles when it ends, with the
 * run's own failure as a problem if it failed; `ended()` says whether it has.
 */
async function startRun(system: ActorSystem, ledger: Ledger, repo: string, scratch: string) {
  const session = await RunSession.start(ledger, {
    repo,
    out: join(scratch, "out"),
    goal: "add CI to this repository",
  }, { system });
  let running = true;
  const done = session.run().then(
    () => [] as string[],
    (err) => [`the run itself failed: ${(err as Error).message}`],
  ).finally(() => running = false);
  return { runId: session.runId, done, ended: () => !running };
}

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
  const { runId, done, ended } = await startRun(system, ledger, repo, scratch);
  let faults = 0;
  // Kill a random worker of this run's team, now and then, until the run ends (or enough were).
  while (!ended() && faults < maxFaults) {
    await Promise.race([sleep(Math.round(random() * 2 * meanGapMs)), done]);
    if (ended()) break;
    const team = teamOf(runId);
    const victims = system.registry.list().filter((e) =>
      team.owns(e.id) && e.id !== team.supervisor && e.status === "running" &&
      system.registry.cell(e.id)?.spec.isolation !== "inline"
    );
    if (victims.length === 0) continue;
    const victim = victims[Math.floor(random() * victims.length)];
    if (system.registry.cell(victim.id)?.fail("chaos: killed at a random moment")) faults++;
  }
  const problems = await done;
  const kept = await runPromises(ledger, runId);
  return { runId, faults, tasks: kept.tasks, problems: [...problems, ...kept.problems] };
}

/** How each injected misbehaviour must be caught: the watchdog, the heap limit or the monitor. */
const CAUGHT_BY: Record<Fault, string> = {
  spin: "unresponsive",
  leak: "over_memory",
  hang: "unhealthy",
};

/** Agents whose task comes after the scan: the run is still ahead of them when faults go in. */
const LATER = ["detector", "assessor", "planner", "delivery", "docs", "reviewer"];

/**
 * A run in which three of the team's agents misbehave in their next task: one spins
 * (`while (true) {}`), one hangs (awaits what never settles), one leaks heap until stopped.
 * Each must be caught (the watchdog, the health monitor after the task's ask times out, the
 * heap limit), its agent restarted and its task retried, and the run must keep every promise.
 * The hang costs the task's timeout (60 s): nothing but that timeout says an agent is stuck.
 */
export async function stuckRun(
  ledger: Ledger,
  repo: string,
  scratch: string,
  random: () => number,
): Promise<FaultRun> {
  await using system = await ActorSystem.start();
  const { runId, done, ended } = await startRun(system, ledger, repo, scratch);
  const team = teamOf(runId);
  const crashes = system.events.collect((e) => e.type === "crashed" && team.owns(e.actor));
  // Once the team is up, three of its later agents (seeded) get a misbehaviour each.
  const names = [...LATER].sort(() => random() - 0.5).slice(0, 3);
  const faults: Fault[] = ["spin", "hang", "leak"];
  const injected = new Map<string, Fault>();
  for (let i = 0; i < 500 && !ended() && injected.size < faults.length; i++) {
    for (const [k, name] of names.entries()) {
      const id = `${team.prefix}${name}-1`;
      if (!injected.has(id) && system.registry.cell(id)?.injectFault(faults[k])) {
        injected.set(id, faults[k]);
      }
    }
    if (injected.size < faults.length) await sleep(10);
  }
  const problems = await done;
  crashes.stop();
  // A fault counts once it fired: its agent crashed, caught the way its kind must be.
  let fired = 0;
  for (const [id, fault] of injected) {
    const crash = crashes.find((e) => e.actor === id);
    if (!crash || crash.type !== "crashed") continue; // its agent got no task after the fault
    fired++;
    if (crash.error.code !== CAUGHT_BY[fault]) {
      problems.push(
        `${fault} in ${id} was caught as ${crash.error.code ?? crash.error.message}, ` +
          `not ${CAUGHT_BY[fault]}`,
      );
    }
  }
  const kept = await runPromises(ledger, runId);
  return { runId, faults: fired, tasks: kept.tasks, problems: [...problems, ...kept.problems] };
}

/**
 * The permissions this process has, as flags: the runs it starts get what it was given (deno.json's
 * one list, through the task that started it), no more. The network is all or 127.0.0.1.
 */
function inheritedPermissions(): string[] {
  const kinds = ["read", "write", "env", "run", "ffi", "sys", "net"] as const;
  const flags = kinds.filter((name) => Deno.permissions.querySync({ name }).state === "granted")
    .map((name) => `--allow-${name}`);
  const local = Deno.permissions.querySync({ name: "net", host: "127.0.0.1" }).state;
  if (!flags.includes("--allow-net") && local === "granted") flags.push("--allow-net=127.0.0.1");
  return flags;
}

/**
 * Runs `run_process.ts` with `args`; kills it with SIGKILL after `killAfterMs` if given; with
 * `maxFileKb`, no file it writes may grow past that many KiB (`ulimit -f`, as on a full disk:
 * writes past it fail with EFBIG instead of killing the process).
 */
async function runProcess(args: string[], o: { killAfterMs?: number; maxFileKb?: number } = {}) {
  const deno = [
    "run",
    ...inheritedPermissions(),
    "--quiet",
    new URL("./run_process.ts", import.meta.url).pathname,
    ...args,
  ];
  // bash's `ulimit -f` counts KiB; SIGXFSZ ignored, a write past it fails with EFBIG.
  const [cmd, argv] = o.maxFileKb === undefined ? [Deno.execPath(), deno] : [
    "bash",
    ["-c", `trap "" XFSZ; ulimit -f ${Math.floor(o.maxFileKb)}; exec "$0" "$@"`, Deno.execPath()]
      .concat(deno),
  ];
  const child = new Deno.Command(cmd, { args: argv, stdout: "piped", stderr: "piped" }).spawn();
  const timer = o.killAfterMs === undefined
    ? undefined
    : setTimeout(() => child.kill("SIGKILL"), o.killAfterMs);
  const out = await child.output();
  clearTimeout(timer);
  const dec = new TextDecoder();
  return { ...out, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/**
 * A run whose ledger's disk fills up: its process may write no file past a seeded size of
 * 12-40 KiB (a run's ledger grows to ~50 KiB), so a commit fails as the ledger is set up or
 * mid-run. The run must stop with an error that says so and how to resume; resumed in a new
 * process with space again, it must finish, every event acknowledged before the stop must be
 * stored, and every task that started must end exactly once.
 */
export async function diskFullRun(
  scratch: string,
  repo: string,
  random: () => number,
): Promise<FaultRun> {
  const path = join(scratch, "ledger.duckdb");
  const maxFileKb = 12 + random() * 28;
  const first = await runProcess([path, repo, join(scratch, "out")], { maxFileKb });
  const runId = first.stdout.match(/started (\S+)/)?.[1];
  const problems: string[] = [];
  if (first.code === 0) return { runId: runId ?? "(none)", faults: 0, tasks: 0, problems };
  const said = /(could not commit \d+ ledger events to|cannot set up ledger) .*File too large/
    .test(first.stderr);
  if (!said) problems.push(`the stop did not name the full disk: ${first.stderr.slice(-500)}`);
  if (!runId) return { runId: "(none)", faults: 1, tasks: 0, problems };
  const stopped = first.stdout.match(/stopped (\{.*\})/)?.[1];
  const acked = stopped ? Number(JSON.parse(stopped).seq) : NaN;
  if (!stopped || !Number.isInteger(acked)) {
    problems.push(`the run did not stop cleanly (exit ${first.code}): ${first.stderr.slice(-500)}`);
  } else if (!first.stderr.includes(`deno task run --resume ${runId}`)) {
    problems.push(`the error does not say how to resume: ${first.stderr.slice(-300)}`);
  }
  const resumed = await runProcess([path, "--resume", runId]);
  if (!resumed.stdout.includes("finished")) {
    problems.push(`the resumed run did not finish: ${resumed.stderr.slice(-500)}`);
  }
  const ledger = await Ledger.open(path, { readOnly: true });
  try {
    if (Number.isInteger(acked)) {
      const kept = await ledger.query(`SELECT count(*) AS n FROM events WHERE seq <= ${acked}`);
      if (Number(kept.rows[0].n) !== acked) {
        problems.push(`${acked} events were acknowledged before the stop, ${kept.rows[0].n} kept`);
      }
    }
    const kept = await runPromises(ledger, runId);
    return { runId, faults: 1, tasks: kept.tasks, problems: [...problems, ...kept.problems] };
  } finally {
    await ledger.close();
  }
}

/**
 * A run whose whole process is SIGKILLed at a random moment, then resumed in a new process. It
 * applies its files to its own copy of the repository, so the kill may land between a write and
 * its event. Afterwards every task that started ended exactly once, the run finished once, the
 * chain holds, and every file was applied once: one `file_applied` event each, and the
 * repository's file is exactly the one the run proposed (an append done twice would show).
 * Each ledger is its own file (one writer per ledger).
 */
export async function killedRun(
  scratch: string,
  repo: string,
  random: () => number,
): Promise<FaultRun> {
  const path = join(scratch, "ledger.duckdb");
  const copy = join(scratch, "repo");
  const out = join(scratch, "out");
  await cp(repo, copy, { recursive: true });
  const first = await runProcess([path, copy, out, "--apply"], {
    killAfterMs: 300 + random() * 2_500,
  });
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
    const applied = await ledger.query(
      `SELECT json_extract_string(payload, '$.path') AS path, count(*) AS n FROM events
       WHERE run_id = '${runId}' AND type = 'file_applied' GROUP BY path`,
    );
    for (const row of applied.rows) {
      const file = String(row.path);
      if (Number(row.n) !== 1) problems.push(`${file} was applied ${row.n} times`);
      const proposed = await Deno.readTextFile(join(out, "files", file)).catch(() => undefined);
      const written = await Deno.readTextFile(join(copy, file)).catch(() => undefined);
      if (proposed !== written) {
        problems.push(`${file} in the repository is not the file the run proposed`);
      }
    }
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
