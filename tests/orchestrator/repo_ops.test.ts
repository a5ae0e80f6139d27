import assert from "node:assert/strict";
import { join } from "node:path";
import { parse } from "yaml";
import { validateWorkflow } from "@action-validator/core";
import { assess } from "../../actors/agents/assessor.ts";
import { CI_SCHEMAS } from "../../actors/agents/kit/ci_config.ts";
import { detect } from "../../actors/agents/detector.ts";
import { scan } from "../../actors/agents/scanner.ts";
import { cli, cliArgs, copyRepo } from "../cli_helpers.ts";
import { selectFrom } from "../ledger_helpers.ts";
import { applyFiles } from "../../actors/orchestrator/apply_files.ts";
import { proposedFiles } from "../../actors/orchestrator/run_files.ts";
import type { GeneratedFile } from "../../actors/tasks/repo_facts.ts";
import { Ledger } from "../../ledger/mod.ts";
import { ApprovalDesk, autonomyPreset, PolicyEngine } from "../../policies/mod.ts";

/** Every file under `dir` with its content, to prove a run left a repository as it was. */
async function snapshot(dir: string, prefix = ""): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for await (const e of Deno.readDir(join(dir, prefix))) {
    const rel = join(prefix, e.name);
    if (e.isDirectory) { for (const [k, v] of await snapshot(dir, rel)) files.set(k, v); }
    else files.set(rel, await Deno.readTextFile(join(dir, rel)));
  }
  return files;
}

interface Report {
  runId: string;
  findings: { rule: string; severity: string; path?: string }[];
  generated: { path: string }[];
  projects: { type: string; test?: string }[];
  existingCi: string[];
  review: { verdict: string; notes: string[] };
  dead: unknown[];
}

const CI_FILES = [".github/workflows/ci.yml", ".gitlab-ci.yml", "azure-pipelines.yml"];

const EXPECTED: Record<string, { findings: string[]; project: string; files: string[] }> = {
  node_app: {
    findings: ["gitignore-missing .gitignore", "no-ci", "no-license", "no-readme"],
    project: "typescript",
    files: [...CI_FILES, ".gitignore", "README.md", "CHANGELOG.md"],
  },
  python_pkg: {
    findings: ["missing-lockfile pyproject.toml", "no-ci"],
    project: "python",
    files: [...CI_FILES, "README.md", "CHANGELOG.md"],
  },
  go_mod: {
    findings: ["no-ci"],
    project: "go",
    files: [...CI_FILES, "Dockerfile", "CHANGELOG.md"],
  },
  rust_crate: {
    findings: ["no-ci", "no-license"],
    project: "rust",
    files: [...CI_FILES, "README.md", "CHANGELOG.md"],
  },
  leaky: {
    findings: [
      "no-license",
      "secret deploy/config.js",
      "secret deploy/id_ed25519",
      "secret-file .env",
    ],
    project: "node",
    files: ["README.md"],
  },
};

const TEAM = [
  "assessor",
  "delivery",
  "detector",
  "docs",
  "planner",
  "reviewer",
  "scanner",
  "tester",
]
  .map((name) => `${name}-1`);

for (const [name, expected] of Object.entries(EXPECTED)) {
  Deno.test(`run on the ${name} fixture: its findings, valid CI for three platforms, repository untouched`, async () => {
    const tmp = await Deno.makeTempDir({ prefix: "troupe-run-" });
    try {
      const repo = await copyRepo(name, tmp);
      const before = await snapshot(repo);
      const out = join(tmp, "out");
      const r = await cli([
        "run",
        "--repo",
        repo,
        "--out",
        out,
        "--json",
        "--ledger",
        join(tmp, "ledger.duckdb"),
      ]);
      assert.equal(r.code, 0, r.stderr);
      const report: Report = JSON.parse(r.stdout);
      assert.deepEqual(
        report.findings.map((f) => f.path ? `${f.rule} ${f.path}` : f.rule).sort(),
        expected.findings,
      );
      assert.equal(report.projects[0]?.type, expected.project);
      assert.deepEqual(report.generated.map((g) => g.path), expected.files);
      assert.equal(report.review.verdict, "approve");
      assert.deepEqual(report.dead, []);
      assert.deepEqual(await snapshot(repo), before, "the repository was changed without --apply");

      for (const path of expected.files.filter((f) => CI_FILES.includes(f))) {
        const text = await Deno.readTextFile(join(out, "files", path));
        const parsed = CI_SCHEMAS[path].safeParse(parse(text));
        assert.ok(parsed.success, `${path}: ${parsed.error?.message}`);
        if (path.startsWith(".github/")) {
          assert.deepEqual(
            validateWorkflow(text).errors,
            [],
            `${path} against the workflow schema`,
          );
        }
      }
      const patch = await Deno.readTextFile(join(out, "changes.patch"));
      for (const f of expected.files) assert.match(patch, new RegExp(`\\+\\+\\+ b/${f}`));
      assert.match(await Deno.readTextFile(join(out, "report.md")), /## Findings/);
      // The team came from its templates, one agent each, and the ledger shows it.
      const started = await selectFrom(
        join(tmp, "ledger.duckdb"),
        "SELECT actor FROM events WHERE type = 'scaled' AND (payload->>'direction') = 'up' " +
          "ORDER BY actor",
      );
      assert.deepEqual(started.map((row) => row.actor), TEAM);
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  });
}

Deno.test("the workflow schema check used above rejects a broken workflow", () => {
  const broken = "on: push\njobs:\n  build:\n    runs-onn: ubuntu-latest\n    steps: 3\n";
  assert.notDeepEqual(validateWorkflow(broken).errors, []);
  assert.equal(CI_SCHEMAS[".gitlab-ci.yml"].safeParse(parse("build: 3")).success, false);
});

Deno.test("--apply writes the reviewed files into the repository as policy allows, each recorded once", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "troupe-apply-" });
  try {
    const ledger = join(tmp, "ledger.duckdb");
    const strict = await copyRepo("node_app", tmp);
    // Level 1: every write waits for an approval; nobody signs this one and it expires.
    const policy = join(tmp, "quick.yaml");
    await Deno.writeTextFile(
      policy,
      "name: quick\nrules:\n  - id: writes\n    match: { action: fs.write }\n" +
        "    effect: require_approval\n    approval: { roles: [approver], threshold: 1, expiresInMs: 300 }\n",
    );
    const refused = await cli([
      "run",
      "--repo",
      strict,
      "--apply",
      "--autonomy",
      "1",
      "--policy",
      policy,
      "--ledger",
      ledger,
      "--approvals",
      join(tmp, "inbox"),
    ]);
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /approval apr-\S+ needed \(1 of approver\) to write 6 file\(s\)/);
    assert.match(
      refused.stdout,
      /not applied: approval apr-\S+ expired at .* with too few signatures/,
    );
    await assert.rejects(Deno.stat(join(strict, ".gitlab-ci.yml")));

    const r = await cli(["run", "--repo", strict, "--apply", "--json", "--ledger", ledger]);
    assert.equal(r.code, 0, r.stderr);
    const { applied, runId } = JSON.parse(r.stdout);
    assert.deepEqual(applied, EXPECTED.node_app.files);
    const readme = await Deno.readTextFile(join(strict, "README.md"));
    assert.match(readme, /Run the tests:\n\n```sh\n\(cd \. && npm test\)/);
    assert.ok(parse(await Deno.readTextFile(join(strict, ".gitlab-ci.yml"))));

    const rows = await selectFrom(
      ledger,
      `SELECT count(*)::INT AS n FROM events WHERE run_id = '${runId}' AND type = 'file_applied'`,
    );
    assert.equal(rows[0].n, EXPECTED.node_app.files.length);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("a run killed with SIGKILL mid-run is finished by --resume without doing completed tasks again", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "troupe-resume-" });
  try {
    const repo = await copyRepo("node_app", tmp);
    // The project's own tests wait while `slow` exists (bounded to 60 s), so the run can be
    // killed while they run, and finish quickly once it is removed.
    const pkg = JSON.parse(await Deno.readTextFile(join(repo, "package.json")));
    pkg.scripts.test =
      "i=0; while [ -f slow ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done; node --test test/";
    await Deno.writeTextFile(join(repo, "package.json"), JSON.stringify(pkg, null, 2));
    await Deno.writeTextFile(join(repo, "slow"), "");
    const ledger = join(tmp, "ledger.duckdb");
    const out = join(tmp, "out");

    const child = new Deno.Command(Deno.execPath(), {
      args: cliArgs([
        "run",
        "--repo",
        repo,
        "--out",
        out,
        "--run-tests",
        "--ledger",
        ledger,
      ]),
      stdout: "null",
      stderr: "piped",
    }).spawn();
    let seen = "";
    const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
    try {
      // The review waits for the tests: kill once all else is done and the tests are running.
      while (
        !/generate_ci done/.test(seen) || !/write_docs done/.test(seen) ||
        !/test started/.test(seen)
      ) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`the run ended before it could be killed:\n${seen}`);
        seen += value;
      }
    } finally {
      child.kill("SIGKILL");
      await child.status;
      await reader.cancel().catch(() => {});
    }
    const runId = seen.match(/^run (run-\S+):/m)?.[1];
    assert.ok(runId, seen);
    await Deno.remove(join(repo, "slow"));

    const r = await cli(["run", "--resume", runId, "--json", "--ledger", ledger]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /resuming .*: 6 task\(s\) already done/);
    const report = JSON.parse(r.stdout);
    assert.equal(report.runId, runId);
    assert.equal(report.review.verdict, "approve");
    assert.equal(report.tests[0].passed, true);
    assert.deepEqual(
      report.generated.map((g: { path: string }) => g.path),
      EXPECTED.node_app.files,
    );

    const rows = await selectFrom(
      ledger,
      `SELECT payload->>'taskId' AS task, count(*) FILTER (type = 'task_started')::INT AS started,
              count(*) FILTER (type = 'task_succeeded')::INT AS succeeded
       FROM events WHERE run_id = '${runId}' AND type LIKE 'task_%' GROUP BY ALL ORDER BY task`,
    );
    assert.deepEqual(rows.map((x) => [x.task, x.started, x.succeeded]), [
      ["assess", 1, 1],
      ["detect", 1, 1],
      ["generate_ci", 1, 1],
      ["plan_repairs", 1, 1],
      ["review", 1, 1], // waits for the tests: started only after the resume
      ["scan", 1, 1],
      ["test", 2, 1], // started before the kill, run again after it
      ["write_docs", 1, 1],
    ]);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test(".troupeignore keeps paths out of the assessment; a key header with no key body is not a secret", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "troupe-scan-" });
  try {
    await Deno.mkdir(join(tmp, "samples"));
    const key = "-----BEGIN OPENSSH PRIVATE KEY-----";
    await Deno.writeTextFile(join(tmp, "samples", "id"), `${key}\n${"A".repeat(64)}\n`);
    await Deno.writeTextFile(
      join(tmp, "doc.md"),
      `Keys start with ${key} and are never committed.\n`,
    );
    await Deno.writeTextFile(join(tmp, "id_rsa"), `${key}\n${"b3Bl".repeat(16)}\n`);
    const secretsIn = async () => {
      const s = await scan(tmp);
      return (await assess(s, detect(s))).filter((f) => f.rule === "secret").map((f) => f.path);
    };
    assert.deepEqual((await secretsIn()).sort(), ["id_rsa", "samples/id"]);
    await Deno.writeTextFile(join(tmp, ".troupeignore"), "# fixtures\nsamples/\n");
    assert.deepEqual(await secretsIn(), ["id_rsa"]);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("a hard-coded credential is one random enough to be real; docs' and tests' placeholders are not", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "troupe-creds-" });
  try {
    // The placeholders as a real HTTP client's README and tests have them.
    await Deno.writeTextFile(
      join(tmp, "readme.md"),
      "```js\nconst api = ky.create({ token: 'secret123' });\nauth: {apiKey: 'extended'}\n" +
        "headers: { token: 'invalid:token' }\npassword: 'your-password-here'\n```\n",
    );
    await Deno.writeTextFile(
      join(tmp, "settings.py"),
      'DEBUG = False\nDB_PASSWORD = "x"\npassword = "hJ8#kq2Lm9!vXz4R"\n',
    );
    const s = await scan(tmp);
    const found = (await assess(s, detect(s))).filter((f) => f.rule === "secret");
    assert.deepEqual(found.map((f) => [f.path, f.line, f.message]), [
      ["settings.py", 3, "hard-coded credential committed to the repository"],
    ]);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("bad run options are refused before anything runs, each named by its flag", async () => {
  const r = await cli(["run", "--max-agents", "5", "--ledger", "/nonexistent/ledger.duckdb"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--max-agents: Too small: expected number to be >=8 \(given "5"\)/);
  const both = await cli([
    "run",
    "--autonomy",
    "six",
    "--max-agents",
    "x",
    "--ledger",
    "/nonexistent/l",
  ]);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /--autonomy: .*expected number.* \(given "six"\)/);
  assert.match(both.stderr, /--max-agents: .*expected number.* \(given "x"\)/);
});

Deno.test("a run killed between writing a file and recording it does not write it again on resume", async () => {
  const repo = await Deno.makeTempDir({ prefix: "troupe-apply-twice-" });
  try {
    await Deno.writeTextFile(join(repo, "README.md"), "# app\n");
    const files: GeneratedFile[] = [
      {
        path: "README.md",
        content: "\n## Development\n\nnpm test\n",
        mode: "append",
        reason: "docs",
      },
      {
        path: ".gitlab-ci.yml",
        content: "test:\n  script: npm test\n",
        mode: "create",
        reason: "ci",
      },
    ];
    const apply = async () => {
      // A ledger without the first writes' events: the process died before they were stored.
      await using ledger = await Ledger.open(":memory:");
      const desk = await ApprovalDesk.open({
        ledger,
        dir: join(repo, ".inbox"),
        keyDir: join(repo, ".keys"),
      });
      return await applyFiles({
        ledger,
        runId: "run-1",
        repo,
        files,
        verdict: "approve",
        policy: new PolicyEngine([autonomyPreset(5)]),
        desk,
      });
    };
    assert.deepEqual((await apply()).applied, ["README.md", ".gitlab-ci.yml"]);
    const again = await apply();
    assert.deepEqual(again, { applied: ["README.md", ".gitlab-ci.yml"], refused: undefined });
    assert.equal(
      await Deno.readTextFile(join(repo, "README.md")),
      "# app\n\n## Development\n\nnpm test\n",
      "appended once",
    );
    assert.equal(await Deno.readTextFile(join(repo, ".gitlab-ci.yml")), files[1].content);
    // The resumed run reports what it proposed, not its own append appended again.
    const [readme] = await proposedFiles(repo, files);
    assert.equal(readme.before, "# app\n");
    assert.equal(readme.after, await Deno.readTextFile(join(repo, "README.md")));
  } finally {
    await Deno.remove(repo, { recursive: true });
  }
});
