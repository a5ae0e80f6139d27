import { coresBusy } from "./cores_busy.ts";
import { cp } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { Ledger } from "../ledger/mod.ts";
import {
  diskFullRun,
  type FaultRun,
  faultRun,
  killedRun,
  restartStorm,
  stuckRun,
} from "./fault_runs.ts";
import { type Tried, tryHostileInputs } from "./hostile_inputs.ts";
import { seededRandom } from "../runtime/random.ts";

/** The most faults one run gets. */
const PER_RUN = 15;

/** What `deno task chaos --json` prints. */
export const ChaosReport = z.object({
  seed: z.number().int(),
  faults_injected: z.number().int(),
  inputs_tried: z.number().int(),
  runs: z.number().int(),
  tasks_completed: z.number().int(),
  events_written: z.number().int(),
  /** Events the ledger acknowledged that are not in it afterwards. */
  events_lost: z.number().int(),
  /** Cores this process and its children kept busy after everything was stopped (~0 idle). */
  cores_busy_after: z.number(),
  /** Hostile inputs that got through, and broken promises of the runs under fire. */
  escapes: z.number().int(),
  problems: z.array(z.string()),
});
/** The suite's findings. */
export type ChaosReport = z.infer<typeof ChaosReport>;

/** How the suite runs. */
export interface ChaosOptions {
  seed: number;
  /** At least this many faults injected into real runs. */
  faults: number;
  /** A repository to run on; by default a small Node project the suite writes. */
  repo?: string;
  /** Runs whose whole process is SIGKILLed at a random moment and then resumed (default 5). */
  processKills?: number;
  /** Runs whose ledger's disk fills up mid-run, then resumed with space again (default 3). */
  diskFulls?: number;
  /**
   * Hostile inputs for parts above this layer to add (the CLI adds the HTTP endpoint's), tried
   * after the suite's own, in a scratch folder of their own.
   */
  moreInputs?(scratch: string): Promise<Tried[]>;
  /** Keep injecting faults until this many minutes have passed (a soak), not just `faults`. */
  soakMinutes?: number;
  onProgress?(line: string): void;
}

/** A small Node project with a test: what the runs under fire work on by default. */
async function fixtureRepo(dir: string): Promise<string> {
  const files: Record<string, string> = {
    "package.json": JSON.stringify({
      name: "chaos",
      version: "1.0.0",
      scripts: { test: "node --test" },
    }),
    "index.js": "module.exports = (a, b) => a + b;\n",
    "test/index.test.js":
      'require("node:test")("adds", () => require("node:assert").equal(require("..")(1, 2), 3));\n',
    "README.md": "# chaos\n",
  };
  for (const [path, text] of Object.entries(files)) {
    await Deno.mkdir(join(dir, path, ".."), { recursive: true });
    await Deno.writeTextFile(join(dir, path), text);
  }
  return dir;
}

/**
 * Proves troupe's promise end to end: runs the repo-ops team on a repository while killing its
 * worker actors at random moments (seeded, so a failing seed repeats), and runs whose whole
 * process is SIGKILLed and then resumed; checks each run's tasks, the ledger's chain and that
 * every acknowledged event is stored; then tries hostile inputs on the real parts. Nothing may
 * be lost and nothing may escape.
 */
export async function runChaos(o: ChaosOptions): Promise<ChaosReport> {
  const scratch = await Deno.makeTempDir({ prefix: "troupe-chaos-" });
  /** Promises the runs under fire broke. */
  const broken: string[] = [];
  const t0 = performance.now();
  const at = () => `[${Math.round((performance.now() - t0) / 1000)} s] `;
  try {
    const repo = join(scratch, "repo");
    if (o.repo) await cp(o.repo, repo, { recursive: true });
    else await fixtureRepo(repo);
    const ledger = await Ledger.open(join(scratch, "ledger.duckdb"));
    let acknowledged = 0;
    const stopCounting = ledger.onCommit((rows) => acknowledged += rows.length);
    const random = seededRandom(o.seed);
    let faults = 0;
    let runs = 0;
    let tasks = 0;
    /** Counts a run under fire, collects the promises it broke and says how it went. */
    const tally = (run: FaultRun, kind: string, what: string, kept = "every promise kept") => {
      runs++;
      faults += run.faults;
      tasks += run.tasks;
      broken.push(...run.problems.map((p) => `${kind} ${run.runId}: ${p}`));
      o.onProgress?.(
        `${at()}${what}, ${run.tasks} tasks, ${run.problems.join("; ") || kept}`,
      );
    };
    const until = o.soakMinutes ? Date.now() + o.soakMinutes * 60_000 : 0;
    while (faults < o.faults || Date.now() < until) {
      // A few kills a second, at most PER_RUN in one run: several runs, each under fire.
      const left = Math.min(PER_RUN, Math.max(1, o.faults - faults));
      const run = await faultRun(ledger, repo, join(scratch, `run-${runs}`), random, 250, left);
      tally(run, "run", `run ${runs + 1}: ${run.faults} workers killed`);
      if (runs > 200) break; // bounded, whatever happens
    }
    // The whole process, SIGKILLed at a random moment, then resumed: each run its own ledger.
    for (let k = 0; k < (o.processKills ?? 5); k++) {
      const dir = join(scratch, `killed-${k}`);
      await Deno.mkdir(dir);
      const run = await killedRun(dir, repo, random);
      tally(
        run,
        "killed run",
        `process ${k + 1}: ${
          !run.faults
            ? "finished before its kill"
            : run.runId === "(none)"
            ? "SIGKILLed before its run was recorded"
            : "SIGKILLed and resumed"
        }`,
      );
    }
    // The ledger's disk fills up mid-run; the run stops, then resumes once there is space.
    for (let k = 0; k < (o.diskFulls ?? 3); k++) {
      const dir = join(scratch, `full-${k}`);
      await Deno.mkdir(dir);
      const run = await diskFullRun(dir, repo, random);
      tally(
        run,
        "full-disk run",
        `full disk ${k + 1}: ${
          !run.faults
            ? "the run fitted in the space it had"
            : run.runId === "(none)"
            ? "the ledger could not be set up, and said so"
            : "the run stopped, and resumed once there was space"
        }`,
      );
    }
    // Agents that spin, hang and leak inside a run.
    const stuck = await stuckRun(ledger, repo, join(scratch, "stuck"), random);
    tally(
      stuck,
      "run",
      `stuck agents: ${stuck.faults} of spin, hang and leak fired and were caught`,
    );
    const storm = await restartStorm(ledger);
    tally(
      storm,
      "run",
      `restart storm: ${storm.faults} crashes until its supervisor escalated`,
      "the system stayed up",
    );
    o.onProgress?.(`${at()}hostile inputs: SQL, messages, plugins, generated code, policies`);
    const tried: Tried[] = await tryHostileInputs(
      ledger,
      scratch,
      (line) => o.onProgress?.(at() + line),
    );
    if (o.moreInputs) {
      const dir = join(scratch, "more-inputs");
      await Deno.mkdir(dir);
      const more = await o.moreInputs(dir);
      o.onProgress?.(
        `${at()}${more.length} more hostile inputs (${
          [...new Set(more.map((t) => t.area))].join(", ")
        })`,
      );
      tried.push(...more);
    }
    const escaped = tried.filter((t) => t.escaped);
    await ledger.flush();
    stopCounting();
    const stored = await ledger.query("SELECT count(*) AS n, max(seq) AS top FROM events");
    const n = Number(stored.rows[0].n);
    if (Number(stored.rows[0].top) !== n) {
      broken.push(`sequence numbers have gaps: ${n} events up to seq ${stored.rows[0].top}`);
    }
    await ledger.close();
    // Everything that was stopped stays stopped: no spinning thread or child left behind.
    const busy = await coresBusy(2000);
    if (busy > 0.35) {
      broken.push(
        `after the suite, ${busy.toFixed(2)} cores stayed busy: something stopped still runs`,
      );
    }
    return {
      seed: o.seed,
      faults_injected: faults,
      inputs_tried: tried.length,
      runs,
      tasks_completed: tasks,
      events_written: n,
      events_lost: Math.max(0, acknowledged - n),
      cores_busy_after: busy,
      escapes: escaped.length + broken.length,
      problems: [...broken, ...escaped.map((t) => `${t.area}: ${t.input}: ${t.escaped}`)],
    };
  } finally {
    await Deno.remove(scratch, { recursive: true }).catch(() => {});
  }
}
