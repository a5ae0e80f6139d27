import assert from "node:assert/strict";
import { join } from "node:path";
import { BUILTIN_PACKS, loadCompliancePack } from "../../policies/mod.ts";
import { cli } from "../cli_helpers.ts";

const REPOS = new URL("../fixtures/repos/", import.meta.url).pathname;

/** Runs an assessment of a fixture with compliance packs; returns the violated controls. */
async function violations(fixture: string, packs: string) {
  const tmp = await Deno.makeTempDir({ prefix: "troupe-compliance-" });
  try {
    const r = await cli([
      "run",
      "audit this repository",
      "--repo",
      join(REPOS, fixture),
      "--compliance",
      packs,
      "--out",
      join(tmp, "out"),
      "--ledger",
      join(tmp, "ledger.duckdb"),
      "--json",
    ]);
    assert.equal(r.code, 0, r.stderr);
    const findings: { rule: string; control?: string; path?: string; line?: number }[] =
      JSON.parse(r.stdout).findings;
    return findings.filter((f) => f.rule === "compliance")
      .map((f) => `${f.control}${f.path ? ` ${f.path}:${f.line ?? ""}` : ""}`).sort();
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

Deno.test("SOC 2 pack: committed credential, deploy without an approval gate, no audit log", async () => {
  assert.deepEqual(await violations("compliance_soc2", "soc2"), [
    "soc2/CC6.1 src/config.js:1",
    "soc2/CC7.2",
    "soc2/CC8.1 .github/workflows/deploy.yml:1",
  ]);
});

Deno.test("GDPR pack: personal data in fixtures (example.com addresses pass), TLS turned off", async () => {
  assert.deepEqual(await violations("compliance_gdpr", "gdpr"), [
    "gdpr/Art.25-personal-data fixtures/customers.json:3",
    "gdpr/Art.32-encryption config/database.yml:3",
  ]);
});

Deno.test("HIPAA pack: PHI in test data and unencrypted storage; its audit log is found", async () => {
  assert.deepEqual(await violations("compliance_hipaa", "hipaa"), [
    "hipaa/164.312(a)(2)(iv)-encryption deploy/db.tf:3",
    "hipaa/164.514-phi-in-fixtures testdata/patients.csv:2",
  ]);
});

Deno.test("a repository that meets a pack's controls has no violations of it", async () => {
  // The HIPAA fixture logs audit events, commits no credential and has no deploy job.
  assert.deepEqual(await violations("compliance_hipaa", "soc2"), []);
  assert.deepEqual(await violations("go_mod", "gdpr"), []);
});

Deno.test("packs are validated data: the built-in ones load; a bad one is refused naming the file and path", async () => {
  for (const name of BUILTIN_PACKS) {
    const pack = await loadCompliancePack(name);
    assert.ok(pack.controls.length >= 3, name);
    assert.ok(pack.policy?.rules.length, `${name} brings policy rules`);
  }
  const dir = await Deno.makeTempDir();
  try {
    const file = join(dir, "bad.yaml");
    await Deno.writeTextFile(
      file,
      "name: bad\nframework: X\ndescription: ''\ncontrols:\n  - id: a\n    title: t\n    severity: high\n    check: { kind: pattern, files: '**', pattern: '(' }\n",
    );
    const r = await cli(["run", "--compliance", file, "--ledger", ":memory:"]);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /bad\.yaml: invalid policy\n\s+- at controls\.0\.check\.pattern: not a valid regular expression/,
    );
    const unknown = await cli(["run", "--compliance", "pci", "--ledger", ":memory:"]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /built-in packs: soc2, gdpr, hipaa/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a pack's pattern cannot backtrack without end: (a+)+$ on a long line of a's is checked in linear time", async () => {
  const dir = await Deno.makeTempDir({ prefix: "troupe-redos-" });
  try {
    const repo = join(dir, "repo");
    await Deno.mkdir(repo);
    // A backtracking engine takes 2^200 steps on this line: the assessor would be stuck.
    await Deno.writeTextFile(join(repo, "notes.txt"), "a".repeat(200) + "!\n");
    const pack = join(dir, "redos.yaml");
    await Deno.writeTextFile(
      pack,
      "name: redos\nframework: X\ndescription: ''\ncontrols:\n" +
        "  - id: r1\n    title: only a's\n    severity: low\n" +
        "    check: { kind: absent, files: '**/*.txt', pattern: '^(a+)+$' }\n",
    );
    const r = await cli([
      "run",
      "audit this repository",
      "--repo",
      repo,
      "--compliance",
      pack,
      "--out",
      join(dir, "out"),
      "--ledger",
      join(dir, "ledger.duckdb"),
      "--json",
    ]);
    assert.equal(r.code, 0, r.stderr);
    const findings: { rule: string; control?: string }[] = JSON.parse(r.stdout).findings;
    assert.deepEqual(
      findings.filter((f) => f.rule === "compliance").map((f) => f.control),
      ["redos/r1"],
    );
    const lookaround = join(dir, "lookaround.yaml");
    await Deno.writeTextFile(
      lookaround,
      (await Deno.readTextFile(pack)).replace("^(a+)+$", "(?<=a)b"),
    );
    const refused = await cli(["run", "--compliance", lookaround, "--ledger", ":memory:"]);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /controls\.0\.check\.pattern: not a valid regular expression \(RE2 syntax/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
