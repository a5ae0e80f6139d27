import assert from "node:assert/strict";
import {
  autonomyPreset,
  PolicyEngine,
  type PolicySetInput,
  recordDecisions,
} from "../../policies/mod.ts";
import { cli } from "../cli_helpers.ts";
import { withLedger } from "../ledger_helpers.ts";

const team: PolicySetInput = {
  name: "team",
  rules: [
    { id: "write-src", match: { action: "fs.write", resource: "src/**" }, effect: "allow" },
    {
      id: "no-secrets",
      match: { action: "fs.*", resource: ["**/.env", "**/*.pem"] },
      effect: "deny",
      severity: "high",
    },
    { id: "watch-writes", match: { action: "fs.write" }, effect: "log" },
    {
      id: "expensive-llm",
      match: { action: "llm.call", costUsd: { min: 1 } },
      effect: "require_approval",
      approval: { roles: ["operator"], threshold: 1 },
    },
    { id: "cheap-llm", match: { action: "llm.call", actor: "coder-*" }, effect: "allow" },
    {
      id: "risky-runs",
      match: { action: "proc.run", risk: { min: "high" } },
      effect: "require_approval",
      approval: { roles: ["approver", "admin"], threshold: 2 },
    },
    { id: "runs", match: { action: "proc.run", capability: "test" }, effect: "allow" },
  ],
};

Deno.test("rules match on action, actor, capability, resource, risk and cost", () => {
  const engine = new PolicyEngine([team]);
  assert.equal(
    engine.decide({ action: "fs.write", actor: "coder", resource: "src/app.ts" }).effect,
    "allow",
  );
  assert.equal(
    engine.decide({ action: "fs.write", actor: "coder", resource: "docs/a.md" }).effect,
    "deny",
  );
  assert.equal(
    engine.decide({ action: "llm.call", actor: "coder-1", costUsd: 0.1 }).effect,
    "allow",
  );
  assert.equal(
    engine.decide({ action: "llm.call", actor: "planner", costUsd: 0.1 }).effect,
    "deny",
  );
  assert.equal(
    engine.decide({ action: "llm.call", actor: "coder-1", costUsd: 5 }).effect,
    "require_approval",
  );
  assert.equal(
    engine.decide({ action: "proc.run", actor: "tester", capability: "test" }).effect,
    "allow",
  );
  assert.equal(
    engine.decide({ action: "proc.run", actor: "tester", capability: "lint" }).effect,
    "deny",
  );
  const risky = engine.decide({
    action: "proc.run",
    actor: "tester",
    capability: "test",
    risk: "critical",
  });
  assert.equal(risky.effect, "require_approval");
  assert.deepEqual(risky.approval, {
    roles: ["approver", "admin"],
    threshold: 2,
    expiresInMs: 86_400_000,
  });
});

Deno.test("deny overrides allow, and says which rule decided", () => {
  const d = new PolicyEngine([team]).decide({
    action: "fs.write",
    actor: "coder",
    resource: "src/.env",
  });
  assert.equal(d.effect, "deny");
  assert.deepEqual(d.decidedBy.map((m) => m.rule), ["no-secrets"]);
  assert.deepEqual(d.matched.map((m) => m.rule), ["write-src", "no-secrets", "watch-writes"]);
  assert.equal(d.alert, true);
  assert.match(d.reason, /denied by team\/no-secrets/);
});

Deno.test("privileged actions with no matching rule are denied; unprivileged ones are not", () => {
  const engine = new PolicyEngine([{ name: "empty", rules: [] }]);
  const push = engine.decide({ action: "git.push", actor: "coder" });
  assert.equal(push.effect, "deny");
  assert.match(push.reason, /no rule allows the privileged action "git.push".*denied by default/);
  assert.equal(engine.decide({ action: "fs.read", actor: "scanner" }).effect, "allow");
  // A log rule alone never allows.
  const logged = new PolicyEngine([{
    name: "l",
    rules: [{ id: "l", match: { action: "**" }, effect: "log" }],
  }]);
  assert.equal(logged.decide({ action: "deploy.staging", actor: "ops" }).effect, "deny");
});

Deno.test("several approval rules combine to the strictest requirement", () => {
  const engine = new PolicyEngine([autonomyPreset(1), {
    name: "extra",
    rules: [{
      id: "two-admins",
      match: { action: "fs.write", resource: "infra/**" },
      effect: "require_approval",
      approval: { roles: ["admin"], threshold: 2, expiresInMs: 60_000 },
    }],
  }]);
  const d = engine.decide({ action: "fs.write", actor: "coder", resource: "infra/main.tf" });
  assert.equal(d.effect, "require_approval");
  assert.deepEqual(d.approval, { roles: ["approver", "admin"], threshold: 2, expiresInMs: 60_000 });
});

Deno.test("autonomy presets: level 1 gates every write, run and call out; level 5 only production and policy", () => {
  const actions = ["fs.write", "proc.run", "net.fetch", "llm.call", "git.push", "deploy.staging"];
  const effects = (level: number) =>
    actions.map((action) =>
      new PolicyEngine([autonomyPreset(level)]).decide({ action, actor: "a" }).effect
    );
  assert.deepEqual(effects(1), Array(6).fill("require_approval"));
  assert.deepEqual(effects(3), [
    "allow",
    "allow",
    "allow",
    "allow",
    "require_approval",
    "require_approval",
  ]);
  assert.deepEqual(effects(5), Array(6).fill("allow"));
  for (let level = 1; level <= 5; level++) {
    for (const action of ["deploy.production", "policy.change"]) {
      const d = new PolicyEngine([autonomyPreset(level)]).decide({ action, actor: "ops" });
      assert.equal(d.effect, "require_approval", `${action} at level ${level}`);
      assert.equal(d.approval?.threshold, 2);
    }
  }
  // Users extend a preset with their own sets; their deny wins.
  const locked = new PolicyEngine([autonomyPreset(5), {
    name: "mine",
    rules: [{ id: "no-net", match: { action: "net.fetch" }, effect: "deny" }],
  }]);
  assert.equal(locked.decide({ action: "net.fetch", actor: "a" }).effect, "deny");
  assert.throws(() => autonomyPreset(6), /1 to 5/);
});

Deno.test("tool calls: built-in tools allowed at every level, MCP tools as calls out; a rule may match a tool's arguments", () => {
  const tool = (level: number, resource: string, args: Record<string, unknown> = {}) =>
    new PolicyEngine([autonomyPreset(level)]).decide({
      action: "tool.call",
      actor: "coder",
      resource,
      arguments: args,
    }).effect;
  assert.equal(tool(1, "builtin/replace"), "allow");
  assert.equal(tool(1, "mcp/fs/read_text_file"), "require_approval");
  assert.equal(tool(3, "mcp/fs/read_text_file"), "allow");
  const engine = new PolicyEngine([autonomyPreset(3), {
    name: "mine",
    rules: [
      {
        id: "no-config",
        match: { action: "tool.call", resource: "*/**", arguments: { path: "config/**" } },
        effect: "deny",
      },
      {
        id: "small-numbers",
        match: { action: "tool.call", resource: "mcp/calc/*", arguments: { a: ["1", "2"] } },
        effect: "deny",
      },
    ],
  }]);
  const decide = (resource: string, args: Record<string, unknown>) =>
    engine.decide({ action: "tool.call", actor: "coder", resource, arguments: args }).effect;
  assert.equal(decide("builtin/read_file", { path: "config/secret.txt" }), "deny");
  assert.equal(decide("mcp/fs/read_text_file", { path: "config/a/b.txt" }), "deny");
  assert.equal(decide("builtin/read_file", { path: "src/main.ts" }), "allow");
  // An absent argument does not match; a number is matched as its JSON text.
  assert.equal(decide("builtin/list_files", {}), "allow");
  assert.equal(decide("mcp/calc/add", { a: 2 }), "deny");
  assert.equal(decide("mcp/calc/add", { a: 3 }), "allow");
});

Deno.test("every decision can be recorded in the ledger", () =>
  withLedger(async (ledger) => {
    const engine = new PolicyEngine([team], { onDecision: recordDecisions(ledger, "run-p") });
    engine.decide({ action: "fs.write", actor: "coder", resource: "src/x.ts" });
    engine.decide({ action: "git.push", actor: "coder" });
    await ledger.flush();
    const rows = await ledger.query(
      "SELECT actor, payload->>'effect' AS effect, payload->>'reason' AS reason FROM events WHERE type = 'policy_decision' ORDER BY seq",
    );
    assert.deepEqual(rows.rows.map((r) => r.effect), ["allow", "deny"]);
    assert.match(String(rows.rows[1].reason), /git.push/);
  }));

Deno.test("deno task policy check points at the file, the path and what was expected", async () => {
  const dir = await Deno.makeTempDir({ prefix: "troupe-policy-" });
  try {
    await Deno.writeTextFile(
      `${dir}/bad.yaml`,
      "name: bad\nrules:\n  - id: r1\n    match: { action: fs.write }\n    effect: permit\n  - id: r2\n    match: { action: deploy }\n    effect: require_approval\n",
    );
    await Deno.writeTextFile(`${dir}/good.json`, JSON.stringify(team));
    await Deno.writeTextFile(`${dir}/broken.json`, "{ name: ");
    const bad = await cli([
      "policy",
      "check",
      `${dir}/bad.yaml`,
      `${dir}/good.json`,
      `${dir}/broken.json`,
    ]);
    assert.equal(bad.code, 1);
    assert.match(
      bad.stderr,
      /bad\.yaml\n\s+- at rules\.0\.effect: Invalid option: expected one of "allow"/,
    );
    assert.match(
      bad.stderr,
      /at rules\.1\.approval: a rule with effect "require_approval" needs approval/,
    );
    assert.match(bad.stderr, /broken\.json\n\s+- not valid JSON/);
    assert.match(bad.stdout, /ok: .*good\.json \(policy "team", 7 rules\)/);
    const explain = await cli([
      "policy",
      "explain",
      "--action",
      "fs.write",
      "--actor",
      "coder",
      "--resource",
      "src/.env",
      "--policy",
      `${dir}/good.json`,
      "--autonomy",
      "5",
      "--json",
    ]);
    assert.equal(explain.code, 0, explain.stderr);
    const decision = JSON.parse(explain.stdout);
    assert.equal(decision.effect, "deny");
    assert.deepEqual(decision.decidedBy.map((m: { rule: string }) => m.rule), ["no-secrets"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
