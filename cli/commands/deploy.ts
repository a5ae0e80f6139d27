import { basename, dirname, join, resolve } from "node:path";
import process from "node:process";
import {
  deploy as deployRelease,
  type DeployOutcome,
  environmentStatus,
  resumeDeploy,
  stopEnvironment,
} from "../../actors/mod.ts";
import { Ledger } from "../../ledger/mod.ts";
import {
  ApprovalDesk,
  DEFAULT_APPROVALS_DIR,
  DEFAULT_KEY_DIR,
  loadPolicyFile,
  PolicyEngine,
  recordDecisions,
  tailoredPreset,
} from "../../policies/mod.ts";
import { TroupeError } from "../../runtime/mod.ts";
import { defineCommand, JSON_FLAG, LEDGER_FLAG, printApprovalNeeded } from "../command.ts";

const usage = `Usage: deno task deploy --repo DIR [--env NAME] [--port N] [--health PATH] [--json]
       deno task deploy --rollback [--to ID] [--env NAME]
       deno task deploy --resume | --status | --stop [--env NAME]
       deno task deploy --repo DIR --emit OUT [--env NAME] [--health PATH]

Deploys the repository's web service (a Procfile's web process, a package.json start script or
main, a deno.json start task, an app.py) to a local environment, blue-green behind nginx: the
release is copied into ROOT/ENV/releases/ID/, built, started on a free port with $PORT set,
health-checked, then switched to with the live release as the proxy's backup, watched for
--watch-ms, and left serving alone (the old release stopped). A release that fails to build,
start or pass its check is never switched to; one that fails while watched is switched back
from. Policy decides the action deploy.ENV first: production needs two signed approvals at
every autonomy level, other environments one at levels 1-3. Every step is a ledger event of the
run deploy-ID.

Options:
  --repo DIR         the repository to deploy
  --env NAME         the environment (default staging); each has its own proxy and releases
  --port N           where the environment's proxy listens (the first deploy; kept after)
  --host ADDR        the proxy's address (default 127.0.0.1)
  --health PATH      the health check's path (default /health, then / if there is none)
  --watch-ms N       how long a switched release is watched before the old one stops (10000)
  --check-tries N    health checks before the switch, 250 ms apart (default 40)
  --root DIR         the deploy root (default .troupe/deploy)
  --emit OUT         deploy nothing: write what deploys to a hosted target into OUT, checked:
                     k8s/NAME.yaml (Deployment with readiness and liveness probes, rolled
                     out one pod at a time, and its Service; validated against Kubernetes'
                     schema) and .github/workflows/deploy.yml (image, then kubectl in the
                     GitHub environment --env, which waits for its required reviewers, and
                     rollout undo when the rollout fails)
  --rollback         deploy the release before the live one again (--to ID: that release)
  --resume           finish a deploy that was interrupted: one release serves after it
  --status           print the environment's releases and what serves
  --stop             stop the environment's releases and proxy
  --autonomy N       1 to 5 (default 3); --policy FILE adds policy sets
  --keys DIR         the key folder whose trust.json says who may sign (default ${DEFAULT_KEY_DIR})
  --approvals DIR    the approvals inbox (default ${DEFAULT_APPROVALS_DIR})
  --ledger PATH      the ledger (default .troupe/ledger.duckdb)
  --json             print the outcome as JSON
  -h, --help         show this help

Exit code: 0 when the release is live (or the operation done), 1 when it was refused or rolled
back, 2 on a usage error.`;

/** Writes the hosted target's files into `out`, each checked first; loaded only when asked. */
async function emitHosted(repo: string, out: string, env: string, health: string) {
  // The validators' dependencies load node:punycode, whose deprecation notice is not the user's.
  process.noDeprecation = true;
  const hosted = await import("../../actors/deploy/hosted_targets.ts");
  const o = { name: hosted.serviceName(basename(resolve(repo))), env, health, port: 8080 };
  const manifests = hosted.kubernetesManifests(o);
  const workflow = hosted.githubDeployWorkflow(o);
  const problems = [
    ...hosted.validateManifests(manifests),
    ...(await hosted.validateWorkflow(workflow)),
  ];
  if (problems.length > 0) {
    throw new TroupeError(
      "invalid_spec",
      `the generated files do not check: ${problems.join("; ")}`,
    );
  }
  const files = [join(out, "k8s", `${o.name}.yaml`), join(out, ".github/workflows/deploy.yml")];
  for (const [file, text] of [[files[0], manifests], [files[1], workflow]]) {
    await Deno.mkdir(dirname(file), { recursive: true });
    await Deno.writeTextFile(file, text);
  }
  return { name: o.name, env, files };
}

export const deploy = defineCommand({
  name: "deploy",
  summary: "deploy a repository's service blue-green behind nginx, with rollback",
  usage,
  flags: {
    repo: { type: "string" },
    env: { type: "string", default: "staging" },
    port: { type: "string" },
    host: { type: "string" },
    health: { type: "string" },
    "watch-ms": { type: "string", default: "10000" },
    "check-tries": { type: "string", default: "40" },
    root: { type: "string", default: ".troupe/deploy" },
    emit: { type: "string" },
    rollback: { type: "boolean", default: false },
    to: { type: "string" },
    resume: { type: "boolean", default: false },
    status: { type: "boolean", default: false },
    stop: { type: "boolean", default: false },
    autonomy: { type: "string", default: "3" },
    policy: { type: "string", multiple: true, default: [] as string[] },
    keys: { type: "string", default: DEFAULT_KEY_DIR },
    approvals: { type: "string", default: DEFAULT_APPROVALS_DIR },
    ledger: LEDGER_FLAG,
    json: JSON_FLAG,
  },
  async run(flags, positionals, fail) {
    if (positionals.length > 0) return fail(`unexpected argument "${positionals[0]}"`);
    const modes = [flags.rollback, flags.resume, flags.status, flags.stop, !!flags.repo];
    if (modes.filter(Boolean).length !== 1) {
      return fail("give one of --repo DIR, --rollback, --resume, --status or --stop");
    }
    if (flags.to && !flags.rollback) return fail("--to goes with --rollback");
    if (flags.emit && !flags.repo) return fail("--emit goes with --repo DIR");
    if (!/^[a-z0-9][a-z0-9_-]{0,31}$/.test(flags.env)) {
      return fail(`--env must be 1-32 lowercase letters, digits, - or _; got "${flags.env}"`);
    }
    const numbers: Record<string, number | undefined> = {};
    for (const name of ["port", "watch-ms", "check-tries", "autonomy"] as const) {
      const text = flags[name];
      if (text === undefined) continue;
      const n = Number(text);
      if (!Number.isInteger(n) || n < 0 || (name === "port" && (n < 1 || n > 65535))) {
        return fail(`--${name} must be a whole number${name === "port" ? " from 1 to 65535" : ""}`);
      }
      numbers[name] = n;
    }
    if (numbers.autonomy !== undefined && (numbers.autonomy < 1 || numbers.autonomy > 5)) {
      return fail("--autonomy must be 1 to 5");
    }
    const root = resolve(flags.root);
    const print = (value: unknown, text: string) =>
      console.log(flags.json ? JSON.stringify(value) : text);
    if (flags.status) {
      const status = await environmentStatus(root, flags.env);
      if (!status) return fail(`${flags.env} has not been deployed to from ${root}`);
      const live = status.live
        ? `${status.live.id} (${status.liveRunning ? "running" : "not running"})`
        : "none";
      print(
        status,
        `${flags.env}: ${status.url}  live ${live}  releases ${
          status.releases.map((r) => r.id).join(", ") || "none"
        }`,
      );
      return 0;
    }
    if (flags.stop) {
      const stopped = await stopEnvironment(root, flags.env);
      print(
        { env: flags.env, stopped },
        `${flags.env}: stopped ${stopped.join(", ") || "nothing running"} and its proxy`,
      );
      return 0;
    }
    if (flags.emit) {
      const written = await emitHosted(
        flags.repo!,
        flags.emit,
        flags.env,
        flags.health ?? "/health",
      );
      print(written, written.files.map((f) => `wrote ${f} (checked)`).join("\n"));
      return 0;
    }
    const ledger = await Ledger.open(flags.ledger);
    try {
      const sets = await Promise.all(flags.policy.map((f) => loadPolicyFile(f)));
      const policy = new PolicyEngine(tailoredPreset(numbers.autonomy ?? 3, sets), {
        onDecision: recordDecisions(ledger, null),
      });
      using desk = await ApprovalDesk.open({
        ledger,
        dir: flags.approvals,
        keyDir: flags.keys,
        onNews: (text) => console.error(text),
      });
      const options = {
        ledger,
        root,
        env: flags.env,
        port: numbers.port,
        host: flags.host,
        repo: flags.repo,
        health: flags.health,
        watchMs: numbers["watch-ms"],
        checkTries: numbers["check-tries"],
        ...(flags.rollback ? { rollbackTo: flags.to ?? "previous" } : {}),
        policy,
        desk,
        onNews: (text: string) => console.error(text),
        onApprovalNeeded: printApprovalNeeded,
      };
      let outcome: DeployOutcome | undefined;
      if (flags.resume) {
        outcome = await resumeDeploy(options);
        if (!outcome) {
          print({ env: flags.env, resumed: false }, `${flags.env}: no deploy to resume`);
          return 0;
        }
      } else outcome = await deployRelease(options);
      print(
        outcome,
        `${outcome.status}: release ${outcome.releaseId} on ${outcome.env}` +
          (outcome.reason ? ` (${outcome.reason})` : "") +
          `; serving ${outcome.live ?? "nothing"} at ${outcome.url}`,
      );
      return outcome.status === "live" ? 0 : 1;
    } finally {
      await ledger.close();
    }
  },
});
