import assert from "node:assert/strict";
import { join } from "node:path";
import { diffRuns, forkRun, RunSession } from "../../actors/mod.ts";
import { Ledger } from "../../ledger/mod.ts";
import { cli } from "../cli_helpers.ts";
import { brokenAdder } from "../adder_repo.ts";
import { fakeOpenAI } from "../fake_models.ts";

Deno.env.set("TROUPE_FORK_KEY", "sk-fork-test-0123456789");

const fix = (id: string, text: string) => ({
  kind: "answer" as const,
  text: "",
  toolCalls: [
    { id, name: "replace", arguments: { path: "src/add.js", old: "a - b", new: text } },
    { id: `${id}-t`, name: "run_tests", arguments: {} },
  ],
});

const provider = (url: string, model: string) => ({
  providers: [{
    name: "fake",
    kind: "openai" as const,
    baseUrl: url,
    apiKeyEnv: "TROUPE_FORK_KEY",
    models: [model],
    maxRetries: 0,
  }],
});

Deno.test("a fork reuses its parent's tasks and model answers before the point, goes on live with another model or policy, forks of forks work, and diff lines the runs up", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "troupe-fork-" });
  try {
    const repo = await brokenAdder(tmp);
    const plan = {
      tasks: [
        { id: "code", kind: "code", dependsOn: ["scan", "detect"] },
        { id: "review", kind: "review", dependsOn: ["scan", "assess", "code"] },
      ],
    };
    await using first = await fakeOpenAI([
      { kind: "answer", text: JSON.stringify(plan) },
      fix("a", "a + b"),
    ]);
    await using second = await fakeOpenAI([fix("b", "b + a")]);
    const path = join(tmp, "ledger.duckdb");
    let parentId: string;
    let forkId: string;
    {
      await using ledger = await Ledger.open(path);
      const parent = await (await RunSession.start(ledger, {
        repo,
        out: join(tmp, "parent"),
        goal: "make add add",
        llm: provider(first.url, "coder-1"),
      })).run();
      assert.equal(parent.ok, true, JSON.stringify(parent.outcome.dead));
      parentId = parent.runId;
      assert.equal(first.requests.length, 2);

      // Another model from the coder on: the plan is its parent's, not asked again.
      const fork = await forkRun(ledger, parentId, {
        at: "code",
        llm: provider(second.url, "coder-2"),
        out: join(tmp, "fork"),
      });
      assert.deepEqual([...fork.completed.keys()].sort(), ["assess", "detect", "scan"]);
      const forked = await fork.run();
      assert.equal(forked.ok, true, JSON.stringify(forked.outcome.dead));
      forkId = forked.runId;
      assert.equal(first.requests.length, 2, "the parent's model is not asked again");
      assert.equal(second.requests.length, 1, "only the coder asks the new model");
      assert.equal(forked.files[0].content, "export const add = (a, b) => b + a;\n");
      const started = await ledger.query(
        `SELECT json_extract_string(payload, '$.forkOf.runId') AS parent,
                json_extract_string(payload, '$.forkOf.at') AS at
           FROM events WHERE type = 'run_started' AND run_id = '${forkId}'`,
      );
      assert.deepEqual(started.rows, [{ parent: parentId, at: "code" }]);
      const planned = await ledger.query(
        `SELECT replayed_from FROM llm_usage WHERE run_id = '${forkId}' AND agent_role = 'planner'`,
      );
      assert.deepEqual(planned.rows, [{ replayed_from: parentId }]);

      // A policy that keeps the code from models outside: the coder has no provider left.
      const policy = join(tmp, "private.yaml");
      await Deno.writeTextFile(
        policy,
        "name: private\nrules:\n  - { id: no-models, match: { action: llm.call }, effect: deny }\n",
      );
      const privateFork = await (await forkRun(ledger, parentId, {
        at: "code",
        policies: [policy],
        out: join(tmp, "private"),
      })).run();
      assert.deepEqual(privateFork.outcome.dead.map((d) => d.taskId), ["code"]);
      assert.equal(first.requests.length + second.requests.length, 3, "no model was asked");
      const d = await diffRuns(ledger, parentId, privateFork.runId);
      const code = d.tasks.find((t) => t.taskId === "code")!;
      assert.equal(code.change, "changed");
      assert.deepEqual(code.differs.includes("outcome"), true);
      assert.equal(d.files.find((f) => f.path === "src/add.js")?.change, "removed");

      await assert.rejects(
        forkRun(ledger, parentId, { at: "nope" }),
        /never started a task "nope"; fork at one of its tasks \(scan, /,
      );
    }

    // A fork of the fork, from the command line, at its review: nothing is asked or redone
    // but the review.
    const env = { env: { OPENAI_API_KEY: "sk-unused-0123456789" } };
    const again = await cli([
      "run",
      "--fork",
      forkId,
      "--at",
      "review",
      "--ledger",
      path,
      "--out",
      join(tmp, "again"),
      "--json",
    ], env);
    assert.equal(again.code, 0, again.stderr);
    const grandchild = JSON.parse(again.stdout);
    assert.match(again.stderr, new RegExp(`a fork of ${forkId} at review, 4 task\\(s\\) reused`));
    assert.equal(first.requests.length + second.requests.length, 3);
    assert.deepEqual(grandchild.generated.map((g: { path: string }) => g.path), ["src/add.js"]);
    // Forks, and forks of forks, verify from their record like any run, asking no model.
    for (const id of [forkId, grandchild.runId]) {
      const verified = await cli(["replay", id, "--verify", "--ledger", path], env);
      assert.equal(verified.code, 0, verified.stdout + verified.stderr);
      assert.match(verified.stdout, /^verified: /);
    }
    assert.equal(first.requests.length + second.requests.length, 3);

    const diff = await cli(["diff", parentId, forkId, "--ledger", path, "--json"]);
    assert.equal(diff.code, 0, diff.stderr);
    const d = JSON.parse(diff.stdout);
    const byId = Object.fromEntries(
      d.tasks.map((t: { taskId: string; change: string }) => [t.taskId, t.change]),
    );
    assert.equal(byId.scan, "same");
    assert.equal(byId.code, "changed");
    assert.equal(byId.plan, undefined);
    const file = d.files.find((f: { path: string }) => f.path === "src/add.js");
    assert.equal(file.change, "changed");
    assert.match(
      file.patch,
      /-export const add = \(a, b\) => a \+ b;\n\+export const add = \(a, b\) => b \+ a;/,
    );
    assert.equal(d.totals.b.tokens > 0, true);
    const text = await cli(["diff", parentId, forkId, "--ledger", path]);
    assert.match(text.stdout, /changed {2}code/);
    assert.equal((await cli(["diff", parentId, "--ledger", path])).code, 2);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
