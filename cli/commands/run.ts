import { Ledger } from "../../ledger/mod.ts";
import { DEFAULT_APPROVALS_DIR, DEFAULT_KEY_DIR } from "../../policies/mod.ts";
import {
  DEFAULT_GOAL,
  forkRun,
  type Progress,
  type RunEnvironment,
  RunRequest,
  RunSession,
  TEAM_SIZE,
  testLines,
} from "../../actors/mod.ts";
import { readLocalToken, servedBy } from "../../control/mod.ts";
import { configFromFlags, LlmConfig } from "../../actors/llm/llm_config.ts";
import { loadPolicyData } from "../../policies/load_policy.ts";
import { TroupeError } from "../../runtime/mod.ts";
import { defineCommand, JSON_FLAG, LEDGER_FLAG, printApprovalNeeded } from "../command.ts";
import { submitToServer } from "./submit_run.ts";
import { dirname, join, resolve } from "node:path";

const usage = `Usage: deno task run [GOAL] [--repo PATH] [--out DIR] [--apply] [--autonomy N]
                     [--policy FILE]... [--compliance PACKS] [--run-tests]
                     [--max-agents N] [--resume RUN_ID] [--ledger PATH] [--json]
                     [--server URL [--token TOKEN]] [--llm KIND --model NAME | --llm-config F] [--replay-models RUN_ID]
                     [--cluster nats://HOST:PORT[,…]]
       deno task fork RUN_ID --at TASK_ID|SEQ [--goal TEXT] [--llm-config F | --llm KIND --model NAME]
                     [--policy FILE]... [--autonomy N] [--out DIR] [--json]

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
  --run-tests       also run each project's own test command, in a copy of the repository,
                    inside bubblewrap: read-only system, no home, no network, private /tmp
  --unsandboxed     run repository code without bubblewrap (PATH and HOME only), where it
                    is not installed; troupe refuses to run repository code otherwise
  --verify-ci       run each proposed CI job's steps here, sandboxed, before proposing them;
                    the report says per job what ran, passed, failed or could not run here,
                    and a failing job blocks the review
  --api-docs        run each project's API documentation tool, sandboxed (deno doc, go doc,
                    pydoc, cargo doc, TypeDoc where the project installed it) and propose
                    its pages (docs/api/), linked from a README section
  --deploy ENV      once the review approves (and, with --run-tests, the tests pass), deploy
                    the repository to the local environment ENV, blue-green behind nginx
                    with rollback, as \`deno task deploy\` does (docs/deploy.md); policy
                    decides deploy.ENV (production: signed approvals)
  --deploy-port N   where ENV's proxy listens (its first deploy; kept after)
  --deploy-root DIR the deploy root (default .troupe/deploy)
  --deploy-health PATH  the health check (default /health, then /)
  --allow-install-network  let install steps reach the network while CI is verified (with
                    the proxy and registry settings of this environment: HTTPS_PROXY, …)
  --home-toolchains let repository code use the toolchains in your home, read-only
                    (rustup's ~/.cargo/bin and ~/.rustup, ~/.local/bin, ~/go/bin)
  --max-agents N    agents of the team in total; a pool grows while its tasks wait and
                    shrinks after 5 idle minutes (default 10, at least ${TEAM_SIZE}: one of each)
  --resume RUN_ID   finish a run that was interrupted; completed tasks are not repeated
  --fork RUN_ID     (deno task fork RUN_ID) a new run that reuses RUN_ID's history up to --at
                    and goes on live from there with what you change (--goal, --llm-config,
                    --llm/--model, --policy, --autonomy): the tasks it finished before are
                    not done again, its model answers before are not paid again
  --at TASK_ID|SEQ  where a fork starts: a task of the parent (done again, with all after
                    it) or an event seq of the parent's
  --goal TEXT       the goal (instead of GOAL); for a fork, its new goal
  --cluster URLS    spread the run's tasks over a cluster (NATS servers, comma-separated):
                    its agents are leased from the nodes started with deno task node
                    --offer repo-ops (which must see the repository's path) and from here
  --server URL      send the run to a troupe server (deno task serve) and follow it there;
                    needed when a server holds the ledger
  --token TOKEN     the bearer token for --server (default: the TROUPE_TOKEN variable,
                    else the token a server without --tokens keeps beside --ledger)
  --llm KIND        plan and code with a model: openai (any OpenAI-compatible server:
                    OPENAI_BASE_URL, OPENAI_API_KEY), anthropic (ANTHROPIC_API_KEY,
                    ANTHROPIC_BASE_URL) or local (a model folder, run in process); needs
                    --model NAME. Without it everything is offline
  --model NAME      the model for --llm; for local, the model folder's path
  --replay-models RUN_ID
                    answer every model call with the answer run RUN_ID recorded for it (the
                    n-th call of a role in a task gets that run's n-th answer) instead of
                    asking a model: the run again at no cost, with that run's model settings
                    unless --llm or --llm-config is given
  --llm-config F    providers, models and prices from a file (JSON or YAML) instead
  --budget-usd N    stop paying for models once the run has spent N dollars (local
                    providers may go on); a role's budget goes in the config file
  --ledger PATH     the ledger (default .troupe/ledger.duckdb)
  --json            print the report as JSON
  -h, --help        show this help`;

/** Live progress: one rewritten line on a terminal, plain lines otherwise (on stderr). */
function progressPrinter(): (p: Progress) => void {
  const tty = Deno.stderr.isTerminal();
  const enc = new TextEncoder();
  return (p) => {
    const spend = p.spend ? `; ${p.spend.tokens} tokens, $${p.spend.costUsd.toFixed(4)}` : "";
    const counts = `[${p.done}/${p.total} done, ${p.failed} failed, ${p.skipped} skipped; busy: ${
      p.running.join(", ") || "-"
    }${spend}]`;
    if (tty) Deno.stderr.writeSync(enc.encode(`\r\x1b[K${counts} ${p.event}`.slice(0, 200)));
    else console.error(`${counts} ${p.event}`);
  };
}

/** The flag each field of a run request comes from, to name it in an error. */
const FLAG_OF: Record<string, string> = {
  goal: "GOAL",
  repo: "--repo",
  out: "--out",
  autonomy: "--autonomy",
  policies: "--policy",
  compliance: "--compliance",
  maxAgents: "--max-agents",
  keys: "--keys",
  approvals: "--approvals",
  llm: "--llm/--llm-config",
  replayModels: "--replay-models",
  deploy: "--deploy",
  "deploy.port": "--deploy-port",
  "deploy.health": "--deploy-health",
};
const FLAG_GIVEN: Record<string, (f: Record<string, unknown>) => unknown> = {
  "--autonomy": (f) => f.autonomy,
  "--max-agents": (f) => f["max-agents"],
  "--deploy": (f) => f.deploy,
  "--deploy-port": (f) => f["deploy-port"],
  "--deploy-health": (f) => f["deploy-health"],
};

export const run = defineCommand({
  name: "run",
  summary: "point the repo-ops team at a repository (offline; --help)",
  usage,
  flags: {
    repo: { type: "string", default: "." },
    out: { type: "string" },
    apply: { type: "boolean", default: false },
    autonomy: { type: "string" },
    policy: { type: "string", multiple: true, default: [] as string[] },
    compliance: { type: "string", default: "" },
    keys: { type: "string", default: DEFAULT_KEY_DIR },
    approvals: { type: "string", default: DEFAULT_APPROVALS_DIR },
    "run-tests": { type: "boolean", default: false },
    unsandboxed: { type: "boolean", default: false },
    "verify-ci": { type: "boolean", default: false },
    "api-docs": { type: "boolean", default: false },
    deploy: { type: "string" },
    "deploy-port": { type: "string" },
    "deploy-root": { type: "string", default: ".troupe/deploy" },
    "deploy-health": { type: "string" },
    "allow-install-network": { type: "boolean", default: false },
    "home-toolchains": { type: "boolean", default: false },
    "max-agents": { type: "string", default: "10" },
    resume: { type: "string" },
    fork: { type: "string" },
    at: { type: "string" },
    goal: { type: "string" },
    server: { type: "string" },
    cluster: { type: "string" },
    token: { type: "string" },
    llm: { type: "string" },
    model: { type: "string" },
    "llm-config": { type: "string" },
    "budget-usd": { type: "string" },
    "replay-models": { type: "string" },
    ledger: LEDGER_FLAG,
    json: JSON_FLAG,
  },
  async run(flags, positionals, fail) {
    if (positionals.length > 1) return fail("give the goal as one quoted argument");
    if (flags.fork && !flags.at) return fail("--fork needs --at TASK_ID or --at SEQ");
    if (flags.at && !flags.fork) return fail("--at goes with --fork RUN_ID");
    if (flags.fork && (flags.resume || flags["replay-models"] || flags.server)) {
      return fail("--fork makes a run of its own: not with --resume, --replay-models or --server");
    }
    if (flags.llm && flags["llm-config"]) return fail("give --llm with --model, or --llm-config");
    if (flags.llm && !flags.model) return fail("--llm needs --model NAME");
    let llm: LlmConfig | undefined;
    try {
      llm = flags["llm-config"]
        ? await loadPolicyData(flags["llm-config"], LlmConfig, "", "LLM configuration")
        : flags.llm
        ? configFromFlags(flags.llm, flags.model!)
        : undefined;
      if (flags["budget-usd"] !== undefined) {
        const budget = Number(flags["budget-usd"]);
        if (!(budget > 0)) {
          return fail(`--budget-usd must be a positive amount, got "${flags["budget-usd"]}"`);
        }
        if (!llm) return fail("--budget-usd goes with --llm or --llm-config");
        llm = { ...llm, budgetUsd: budget };
      }
    } catch (err) {
      if (err instanceof TroupeError) throw err;
      return fail((err as Error).message);
    }
    const cluster = flags.cluster?.split(",").map((u) => u.trim()).filter(Boolean);
    const hooks: RunEnvironment = {
      ...(cluster?.length ? { cluster: { servers: cluster } } : {}),
      onProgress: progressPrinter(),
      onNews: (text) => console.error(text),
      onApprovalNeeded: printApprovalNeeded,
    };
    const where = {
      maxAgents: Number(flags["max-agents"]),
      keys: flags.keys,
      approvals: flags.approvals,
    };
    const request = {
      goal: flags.goal ?? positionals[0] ?? DEFAULT_GOAL,
      repo: resolve(flags.repo),
      ...(flags.out ? { out: resolve(flags.out) } : {}),
      apply: flags.apply,
      ...(flags.autonomy !== undefined ? { autonomy: Number(flags.autonomy) } : {}),
      policies: flags.policy.map((f) => resolve(f)),
      compliance: flags.compliance.split(",").map((p) => p.trim()).filter(Boolean),
      runTests: flags["run-tests"],
      unsandboxed: flags.unsandboxed,
      verifyCi: flags["verify-ci"],
      apiDocs: flags["api-docs"],
      ...(flags.deploy
        ? {
          deploy: {
            env: flags.deploy,
            root: resolve(flags["deploy-root"]),
            ...(flags["deploy-port"] !== undefined ? { port: Number(flags["deploy-port"]) } : {}),
            ...(flags["deploy-health"] ? { health: flags["deploy-health"] } : {}),
          },
        }
        : {}),
      allowInstallNetwork: flags["allow-install-network"],
      homeToolchains: flags["home-toolchains"],
      ...(llm ? { llm } : {}),
      ...(flags["replay-models"] ? { replayModels: flags["replay-models"] } : {}),
    };
    // RunRequest is the one validator of run options: its issues are told by flag.
    const checked = RunRequest.safeParse({ ...request, ...where });
    if (!checked.success) {
      return fail(
        checked.error.issues.map((i) => {
          const field = i.path[0] === "deploy" && i.path[1] !== "env"
            ? `deploy.${String(i.path[1])}`
            : String(i.path[0] ?? "");
          const flag = FLAG_OF[field] ?? field;
          const given = flag in FLAG_GIVEN ? ` (given "${FLAG_GIVEN[flag](flags)}")` : "";
          return `${flag}: ${i.message}${given}`;
        }).join("\n"),
      );
    }
    if (flags.server) {
      // What widens a server's power is its own configuration's to decide, not a client's.
      const local = flags.out
        ? "--out"
        : flags.unsandboxed
        ? "--unsandboxed"
        : flags.deploy
        ? "--deploy"
        : undefined;
      if (local) {
        return fail(
          `${local} cannot be sent to a server: the server decides where runs write ` +
            "(its --runs-out), never runs repository code unsandboxed and deploys nothing " +
            "a client asks for",
        );
      }
      // A server started without tokens keeps its own beside the ledger it serves.
      const token = flags.token ?? Deno.env.get("TROUPE_TOKEN") ??
        await readLocalToken(resolve(flags.ledger));
      return await submitToServer(flags.server, token, {
        request: {
          goal: request.goal,
          repo: resolve(request.repo!),
          apply: request.apply,
          // Unless given, the server's default for the caller's role.
          ...(request.autonomy !== undefined ? { autonomy: request.autonomy } : {}),
          // The server's own policy sets and packs, by name.
          policies: flags.policy,
          compliance: request.compliance,
          runTests: request.runTests,
          verifyCi: request.verifyCi,
          apiDocs: request.apiDocs,
          allowInstallNetwork: request.allowInstallNetwork,
          ...(llm ? { llm: true as const } : {}),
          ...(request.replayModels ? { replayModels: request.replayModels } : {}),
        },
        ...(flags.resume ? { resume: flags.resume } : {}),
        json: flags.json,
        onProgress: progressPrinter(),
      });
    }
    // One writer per ledger: a server that has it takes the run instead.
    const server = await servedBy(resolve(flags.ledger));
    if (server) {
      console.error(
        `troupe run: the ledger ${flags.ledger} is served by ${server}; send the run there ` +
          `with --server ${server} (and --token, or TROUPE_TOKEN, if it needs one)`,
      );
      return 1;
    }
    await Deno.mkdir(dirname(resolve(flags.ledger)), { recursive: true }).catch(() => {});
    await using ledger = await Ledger.open(flags.ledger);
    let session: RunSession;
    if (flags.resume) {
      session = await RunSession.resume(ledger, flags.resume, where, hooks);
      console.error(`resuming ${session.runId}: ${session.completed.size} task(s) already done`);
    } else if (flags.fork) {
      session = await forkRun(ledger, flags.fork, {
        at: flags.at!,
        ...(flags.goal ?? positionals[0] ? { goal: flags.goal ?? positionals[0] } : {}),
        ...(llm ? { llm } : {}),
        ...(flags.policy.length ? { policies: request.policies } : {}),
        ...(request.autonomy !== undefined ? { autonomy: request.autonomy } : {}),
        ...(request.out ? { out: request.out } : {}),
        ...where,
      }, hooks);
      console.error(
        `run ${session.runId}: a fork of ${flags.fork} at ${flags.at}, ` +
          `${session.completed.size} task(s) reused`,
      );
    } else {
      session = await RunSession.start(ledger, { ...request, ...where }, hooks);
      console.error(`run ${session.runId}: ${session.settings.goal} (${session.settings.repo})`);
    }
    // Ctrl-C cancels between tasks and still writes what was done; a second one ends it.
    const onSignal = () => {
      if (session.cancelled) Deno.exit(130);
      console.error("\ncancelling: no new task starts (Ctrl-C again to stop at once)");
      session.cancel("interrupted (SIGINT)");
    };
    Deno.addSignalListener("SIGINT", onSignal);
    try {
      const r = await session.run();
      if (Deno.stderr.isTerminal()) console.error();
      const { report, settings, outcome } = r;
      if (flags.json) {
        console.log(JSON.stringify(
          {
            ...report,
            out: settings.out,
            applied: r.applied,
            applyRefused: r.refused,
            plannedBy: r.plannedBy,
          },
          null,
          2,
        ));
      } else {
        const bySeverity = (s: string) => report.findings.filter((f) => f.severity === s).length;
        console.log(
          `${report.findings.length} findings (${bySeverity("critical")} critical, ${
            bySeverity("high")
          } high), ` +
            `${r.files.length} generated files, review: ${report.review?.verdict ?? "not run"}` +
            (outcome.dead.length ? `, ${outcome.dead.length} task(s) failed` : ""),
        );
        if (report.tests) console.log(`tests run here:\n${testLines(report.tests).join("\n")}`);
        console.log(`report: ${join(settings.out, "report.md")}`);
        if (settings.llm) {
          console.log(
            r.plannedBy.source === "model"
              ? `planned by ${r.plannedBy.model}`
              : `planned offline: ${r.plannedBy.fallback ?? "no model plan"}`,
          );
        }
        if (r.applied.length) console.log(`applied to ${settings.repo}: ${r.applied.join(", ")}`);
        if (r.refused) console.log(`not applied: ${r.refused}`);
        if (r.cancelled) console.log(`cancelled: ${r.cancelled}`);
      }
      return r.ok ? 0 : 1;
    } finally {
      Deno.removeSignalListener("SIGINT", onSignal);
    }
  },
});
