import assert from "node:assert/strict";
import { join, resolve } from "node:path";
import { RunSession, verifyRun } from "../../actors/mod.ts";
import { Ledger } from "../../ledger/mod.ts";
import { cli } from "../cli_helpers.ts";
import { withLedger } from "../ledger_helpers.ts";

const FIXTURES = new URL("../fixtures/repos/", import.meta.url).pathname;

/** Each fixture repository, with the options its tests use: packs, the project's own tests. */
const RUNS: { repo: string; compliance?: string[]; runTests?: boolean }[] = [
  { repo: "node_app", runTests: true },
  { repo: "python_pkg", runTests: true },
  { repo: "go_mod", runTests: true },
  { repo: "rust_crate", runTests: true },
  { repo: "leaky" },
  { repo: "compliance_gdpr", compliance: ["gdpr"] },
  { repo: "compliance_hipaa", compliance: ["hipaa"] },
  { repo: "compliance_soc2", compliance: ["soc2"] },
];

async function runOn(ledger: Ledger, out: string, r: (typeof RUNS)[number]): Promise<string> {
  const session = await RunSession.start(ledger, {
    repo: resolve(FIXTURES, r.repo),
    out: join(out, r.repo),
    compliance: r.compliance ?? [],
    runTests: r.runTests ?? false,
  });
  return (await session.run()).runId;
}

Deno.test("replay --verify re-executes the run of every fixture repository from its record and finds no divergence", () =>
  withLedger(async (ledger) => {
    const out = await Deno.makeTempDir({ prefix: "troupe-verify-fixtures-" });
    try {
      for (const r of RUNS) {
        const runId = await runOn(ledger, out, r);
        const result = await verifyRun(ledger, runId);
        assert.equal(
          result.divergence,
          undefined,
          `${r.repo}: ${JSON.stringify(result.divergence)}`,
        );
        assert.deepEqual(result.changed, []);
        // At least the run's start, plan, each task's start and end, and its finish.
        assert.ok(result.compared >= 8, `${r.repo}: compared ${result.compared}`);
      }
      // What was fed: the tests' processes (answered, not run) and the repository's reads.
      const kinds = await ledger.query(
        `SELECT DISTINCT unnest(json_extract_string(payload, '$.effects[*].kind')) AS kind
           FROM events WHERE type = 'task_succeeded' ORDER BY kind`,
      );
      const seen = kinds.rows.map((k) => String(k.kind));
      for (const k of ["fs.copy", "fs.file", "fs.list", "fs.read", "process"]) {
        assert.ok(seen.includes(k), `effects of kind ${k} among ${seen.join(", ")}`);
      }
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  }));

Deno.test("a deliberate change to an agent's code is reported at its exact first divergence, with the agent whose version changed", () =>
  withLedger(async (ledger) => {
    const out = await Deno.makeTempDir({ prefix: "troupe-verify-change-" });
    try {
      const runId = await runOn(ledger, out, { repo: "node_app" });
      const modules = {
        detector: new URL("../fixtures/actors/changed_detector.ts", import.meta.url).href,
      };
      const result = await verifyRun(ledger, runId, { modules });
      const d = result.divergence;
      assert.ok(d, "the change is found");
      assert.equal(d.task, "detect");
      assert.equal(d.agent, "detector");
      assert.equal(d.step, 1, "after task_started, at task_succeeded");
      assert.equal(d.field, "output.projects[0].test");
      assert.equal(d.expected?.type, "task_succeeded");
      assert.equal(d.actual?.type, "task_succeeded");
      assert.deepEqual(result.changed.map((c) => c.agent), ["detector"]);
      assert.notEqual(result.changed[0].recorded, result.changed[0].now);
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  }));

Deno.test("an agent that starts a process around its effect log is caught: on replay it may start none, and the run diverges at its task", () =>
  withLedger(async (ledger) => {
    const out = await Deno.makeTempDir({ prefix: "troupe-verify-bypass-" });
    try {
      const modules = {
        tester: new URL("../fixtures/actors/bypassing_tester.ts", import.meta.url).href,
      };
      const session = await RunSession.start(ledger, {
        repo: resolve(FIXTURES, "node_app"),
        out: join(out, "run"),
        runTests: true,
      }, { modules });
      const run = await session.run();
      assert.equal(run.outcome.dead.length, 0, JSON.stringify(run.outcome.dead));
      const result = await verifyRun(ledger, run.runId, { modules });
      const d = result.divergence;
      assert.ok(d, "the bypass is found");
      assert.equal(d.task, "test");
      assert.equal(d.agent, "tester");
      assert.equal(d.expected?.type, "task_succeeded");
      assert.equal(d.actual?.type, "task_failed");
      assert.match(
        String((d.actual?.payload as { cause: string }).cause),
        /run access|NotCapable/i,
      );
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  }));

Deno.test("deno task replay RUN --verify: exit 0 when the code does what it did; a repository changed since is named at the read that differs, exit 1", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "troupe-verify-cli-" });
  try {
    const repo = join(tmp, "app");
    await Deno.mkdir(join(repo, "src"), { recursive: true });
    await Deno.writeTextFile(join(repo, "package.json"), '{"name":"app","version":"1.0.0"}\n');
    await Deno.writeTextFile(join(repo, "src", "index.js"), "export const one = 1;\n");
    const path = join(tmp, "ledger.duckdb");
    const ledger = await Ledger.open(path);
    let runId: string;
    try {
      runId = await runOn(ledger, tmp, { repo });
    } finally {
      await ledger.close();
    }
    const same = await cli(["replay", runId, "--verify", "--ledger", path]);
    assert.equal(same.code, 0, same.stderr + same.stdout);
    assert.match(
      same.stdout,
      /^verified: run run-\S+ re-executed from its record; \d+ of its \d+ events compared, no divergence/,
    );

    await Deno.writeTextFile(join(repo, "src", "index.js"), "export const one = 2;\n");
    const changed = await cli(["replay", runId, "--verify", "--ledger", path, "--json"]);
    assert.equal(changed.code, 1, changed.stderr);
    const result = JSON.parse(changed.stdout);
    assert.equal(result.divergence.task, "scan");
    assert.match(result.divergence.field, /^effects\[\d+\]\.value$/);
    const text = await cli(["replay", runId, "--verify", "--ledger", path]);
    assert.equal(text.code, 1);
    assert.match(text.stdout, /diverged: .* at task scan, step 1 \(agent scanner\)/);
    assert.match(
      text.stdout,
      /"kind":"fs\.file".*src\/index\.js|src\/index\.js.*"kind":"fs\.file"/,
    );
    assert.match(text.stdout, /the repository is not as the run read it/);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
