import { dirname, join, resolve } from "node:path";
import { Ledger, recordSystem } from "../../ledger/mod.ts";
import {
  ApprovalDesk,
  BUILTIN_PACKS,
  combineApprovals,
  type Decision,
  DEFAULT_APPROVALS_DIR,
  DEFAULT_KEY_DIR,
  describe,
  loadCompliancePack,
  loadPolicyFile,
  PolicyEngine,
  recordDecisions,
  tailoredPreset,
} from "../../policies/mod.ts";
import { ActorSystem, type AgentFactory, HealthMonitor } from "../../runtime/mod.ts";
import { DEFAULT_GOAL, planRun } from "../../actors/orchestrator/offline_planner.ts";
import { Orchestrator, type Progress } from "../../actors/orchestrator/orchestrator.ts";
import { recoverRun } from "../../actors/orchestrator/recover_run.ts";
import { buildReport, writeOutputs } from "../../actors/orchestrator/run_report.ts";
import { startTeam, teamTemplates } from "../../actors/orchestrator/team.ts";
import type { GeneratedFile } from "../../actors/agents/repo_facts.ts";
import { defineCommand, JSON_FLAG, LEDGER_FLAG } from "../command.ts";

/** The team keeps one agent of each template, so it needs at least this many. */
const TEAM_SIZE = teamTemplates(".").length;

const usage = `Usage: deno task run [GOAL] [--repo PATH] [--out DIR] [--apply] [--autonomy N]
                     [--policy FILE]... [--compliance PACKS] [--run-tests]
                     [--max-agents N] [--resume RUN_ID] [--ledger PATH] [--json]

Points the repo-ops team at a repository: scan, detect toolchains, assess, plan repairs,
generate CI (GitHub Actions, GitLab CI, Azure Pipelines), docs, review. Works offline.
GOAL defaults to "${DEFAULT_GOAL}"; a goal that only asks to assess/audit/report
generates nothing.

The repository is never modified without --apply, which writes the reviewed files into it
when the review approves and policy (the --autonomy preset and --policy files) allows each
write. Writes that need approval wait, parked, until enough people sign them with
\`deno task approve ID --key FILE\` (or one rejects them, or they expire). Otherwise
everything goes to --out: report.md, report.json, files/ and changes.patch.

Options:
  --repo PATH       the repository (default: the current directory)
  --out DIR         where results go (default .troupe/runs/RUN_ID)
  --apply           write the generated files into the repository
  --autonomy N      1 (every write needs approval) to 5 (default 3)
  --policy FILE     a policy set (JSON or YAML) on top of the preset; a rule with the id of
                    a preset rule replaces it. May be given more than once
  --compliance P    compliance packs to assess against, comma-separated: soc2, gdpr, hipaa
                    or a pack file; their policy rules join the preset too
  --keys DIR        the key folder whose trust.json says who may sign (default ${DEFAULT_KEY_DIR})
  --approvals DIR   the approvals inbox (default ${DEFAULT_APPROVALS_DIR})
  --run-tests       also run each project's own test command (sh, PATH and HOME only)
  --max-agents N    agents of the team in total; a pool grows while its tasks wait and
                    shrinks after 5 idle minutes (default 10, at least ${TEAM_SIZE}: one of each)
  --resume RUN_ID   finish a run that was interrupted; completed tasks are not repeated
  --ledger PATH     the ledger (default .troupe/ledger.duckdb)
  --json            print the report as JSON
  -h, --help        show this help`;

function newRunId(): string {
  return `run-${new Date().toISOString().replace(/[-:T]/g, "").slice(0, 14)}-${
    crypto.randomUUID().slice(0, 8)
  }`;
}

/** Live progress: one rewritten line on a terminal, plain lines otherwise (on stderr). */
function progressPrinter(): (p: Progress) => void {
  const tty = Deno.stderr.isTerminal();
  const enc = new TextEncoder();
  return (p) => {
    const counts = `[${p.done}/${p.total} done, ${p.failed} failed, ${p.skipped} skipped; busy: ${
      p.running.join(", ") || "-"
    }]`;
    if (tty) Deno.stderr.writeSync(enc.encode(`\r\x1b[K${counts} ${p.event}`.slice(0, 200)));
    else console.error(`${counts} ${p.event}`);
  };
}

export const run = defineCommand({
  name: "run",
  summary: "point the repo-ops team at a repository (offline; --help)",
  usage,
  flags: {
    repo: { type: "string", default: "." },
    out: { type: "string" },
    apply: { type: "boolean", default: false },
    autonomy: { type: "string", default: "3" },
    policy: { type: "string", multiple: true, default: [] as string[] },
    compliance: { type: "string", default: "" },
    keys: { type: "string", default: DEFAULT_KEY_DIR },
    approvals: { type: "string", default: DEFAULT_APPROVALS_DIR },
    "run-tests": { type: "boolean", default: false },
    "max-agents": { type: "string", default: "10" },
    resume: { type: "string" },
    ledger: LEDGER_FLAG,
    json: JSON_FLAG,
  },
  async run(flags, positionals, fail) {
    let autonomy = Number(flags.autonomy);
    if (!Number.isInteger(autonomy) || autonomy < 1 || autonomy > 5) {
      return fail(`--autonomy must be 1 to 5, got "${flags.autonomy}"`);
    }
    const maxAgents = Number(flags["max-agents"]);
    if (!Number.isInteger(maxAgents) || maxAgents < TEAM_SIZE) {
      return fail(
        `--max-agents must be a whole number of at least ${TEAM_SIZE}, got "${
          flags["max-agents"]
        }"`,
      );
    }
    let policyFiles = flags.policy.map((f) => resolve(f));
    let applyFiles = flags.apply;
    let compliance = flags.compliance.split(",").map((p) => p.trim()).filter(Boolean)
      .map((p) => BUILTIN_PACKS.includes(p) ? p : resolve(p));
    // A bad policy or pack file stops the run before it starts.
    for (const f of policyFiles) await loadPolicyFile(f);
    for (const p of compliance) await loadCompliancePack(p);
    if (positionals.length > 1) return fail("give the goal as one quoted argument");
    await Deno.mkdir(dirname(resolve(flags.ledger)), { recursive: true }).catch(() => {});
    const ledger = await Ledger.open(flags.ledger);
    let system: ActorSystem | undefined;
    let health: HealthMonitor | undefined;
    let agents: AgentFactory | undefined;
    try {
      let runId: string, goal: string, repo: string, out: string, runTests: boolean, date: string;
      let completed = new Map<string, unknown>();
      if (flags.resume) {
        const found = await recoverRun(ledger, flags.resume);
        if (!found) return fail(`no run "${flags.resume}" in ${flags.ledger}`);
        runId = flags.resume;
        ({ goal, repo, out, runTests, date } = found.started as {
          goal: string;
          repo: string;
          out: string;
          runTests: boolean;
          date: string;
        });
        // The run goes on as it was started: same autonomy, policies, packs and --apply.
        const started = found.started as {
          autonomy?: number;
          policies?: string[];
          compliance?: string[];
          apply?: boolean;
        };
        autonomy = started.autonomy ?? autonomy;
        compliance = started.compliance ?? compliance;
        policyFiles = started.policies ?? policyFiles;
        applyFiles = started.apply ?? applyFiles;
        completed = found.completed;
        console.error(`resuming ${runId}: ${completed.size} task(s) already done`);
      } else {
        runId = newRunId();
        goal = positionals[0] ?? DEFAULT_GOAL;
        repo = resolve(flags.repo);
        const info = await Deno.stat(repo).catch(() => undefined);
        if (!info?.isDirectory) return fail(`--repo ${flags.repo} is not a directory`);
        out = resolve(flags.out ?? join(".troupe", "runs", runId));
        runTests = flags["run-tests"];
        date = new Date().toISOString().slice(0, 10);
        await ledger.append({
          runId,
          actor: "orchestrator",
          type: "run_started",
          payload: {
            goal,
            repo,
            out,
            runTests,
            date,
            autonomy,
            policies: policyFiles,
            compliance,
            apply: applyFiles,
          },
        });
        console.error(`run ${runId}: ${goal} (${repo})`);
      }
      const packs = await Promise.all(compliance.map((p) => loadCompliancePack(p)));
      const plan = planRun(goal, { repo, runTests, date, packs });
      const userSets = await Promise.all(policyFiles.map((f) => loadPolicyFile(f)));
      const packSets = packs.flatMap((p) => p.policy ? [p.policy] : []);
      const policy = new PolicyEngine(tailoredPreset(autonomy, [...userSets, ...packSets]), {
        onDecision: recordDecisions(ledger, runId),
      });
      system = await ActorSystem.start();
      const detach = recordSystem(system, ledger, { runId });
      agents = await startTeam(system, repo, { maxAgents });
      health = new HealthMonitor(system);
      const orchestrator = new Orchestrator({
        system,
        ledger,
        runId,
        agents,
        health,
        completed,
        onProgress: progressPrinter(),
      });
      const outcome = await orchestrator.run(plan);
      if (Deno.stderr.isTerminal()) console.error();
      const { report, files } = buildReport(runId, goal, repo, outcome);
      await writeOutputs(out, repo, report, files);
      const { applied, refused } = applyFiles
        ? await apply({
          ledger,
          runId,
          repo,
          files,
          verdict: report.review?.verdict,
          policy,
          desk: await ApprovalDesk.open({
            ledger,
            dir: flags.approvals,
            keyDir: flags.keys,
            onNews: (text) => console.error(text),
          }),
        })
        : { applied: [], refused: undefined };
      await ledger.append({
        runId,
        actor: "orchestrator",
        type: "run_finished",
        payload: {
          dead: outcome.dead.length,
          skipped: outcome.skipped.length,
          applied,
          ...(refused ? { refused } : {}),
        },
      });
      health.stop();
      agents.stop();
      await system.stop({ deadlineMs: 2000 });
      system = undefined;
      await detach();
      if (flags.json) {
        console.log(JSON.stringify({ ...report, out, applied, applyRefused: refused }, null, 2));
      } else {
        const bySeverity = (s: string) => report.findings.filter((f) => f.severity === s).length;
        console.log(
          `${report.findings.length} findings (${bySeverity("critical")} critical, ${
            bySeverity("high")
          } high), ` +
            `${files.length} generated files, review: ${report.review?.verdict ?? "not run"}` +
            (outcome.dead.length ? `, ${outcome.dead.length} task(s) failed` : ""),
        );
        console.log(`report: ${join(out, "report.md")}`);
        if (applied.length) console.log(`applied to ${repo}: ${applied.join(", ")}`);
        if (refused) console.log(`not applied: ${refused}`);
      }
      return outcome.dead.length > 0 || refused ? 1 : 0;
    } finally {
      health?.stop();
      agents?.stop();
      await system?.stop({ deadlineMs: 2000 });
      await ledger.close();
    }
  },
});

/**
 * Writes reviewed files into the repository, each decided by policy as `fs.write`, each at most
 * once a run. Writes that need approval are parked together as one request and wait for it.
 */
async function apply(o: {
  ledger: Ledger;
  runId: string;
  repo: string;
  files: GeneratedFile[];
  verdict: string | undefined;
  policy: PolicyEngine;
  desk: ApprovalDesk;
}): Promise<{ applied: string[]; refused?: string }> {
  const { ledger, runId, repo } = o;
  if (o.verdict !== "approve") {
    return { applied: [], refused: `the review verdict is ${o.verdict ?? "missing"}` };
  }
  const done = new Set<string>();
  for await (const row of ledger.rows({ runId })) {
    if (row.type === "file_applied") done.add(JSON.parse(row.payload).path);
  }
  const allowed: GeneratedFile[] = [];
  const waiting: { file: GeneratedFile; approval: NonNullable<Decision["approval"]> }[] = [];
  let refused: string | undefined;
  for (const f of o.files) {
    if (done.has(f.path)) continue; // applied before a crash: appending again would duplicate
    const d = o.policy.decide({
      action: "fs.write",
      actor: "orchestrator",
      resource: f.path,
      risk: "medium",
    });
    if (d.effect === "allow") allowed.push(f);
    else if (d.effect === "require_approval") waiting.push({ file: f, approval: d.approval! });
    else {
      console.error(`not applying ${f.path}: ${d.reason}`);
      refused = `policy denied writing ${f.path}`;
    }
  }
  if (waiting.length > 0) {
    const paths = waiting.map((w) => w.file.path);
    const request = await o.desk.request({
      runId,
      key: "apply",
      action: "fs.write",
      actor: "orchestrator",
      resources: paths,
      summary: `write ${paths.length} file(s) into ${repo}: ${paths.join(", ")}`,
      approval: combineApprovals(waiting.map((w) => w.approval)),
    });
    console.error(
      `approval ${request.id} needed (${request.threshold} of ${request.roles.join("/")}) to ` +
        `${request.summary}\n  sign it: deno task approve ${request.id} --key KEY_FILE` +
        `   (or: deno task reject ${request.id} --key KEY_FILE --reason TEXT)`,
    );
    const state = await o.desk.wait(request.id);
    if (state.status === "granted") allowed.push(...waiting.map((w) => w.file));
    else refused = `approval ${request.id} ${describe(request, state)}`;
  }
  const applied: string[] = [];
  for (const f of o.files.filter((f) => allowed.includes(f))) {
    const target = join(repo, f.path);
    await Deno.mkdir(dirname(target), { recursive: true });
    await Deno.writeTextFile(target, f.content, {
      append: f.mode === "append",
      createNew: f.mode === "create",
    });
    await ledger.append({
      runId,
      actor: "orchestrator",
      type: "file_applied",
      payload: { path: f.path, mode: f.mode },
    });
    applied.push(f.path);
  }
  return { applied, refused };
}
