import assert from "node:assert/strict";
import { cp } from "node:fs/promises";
import { cli } from "../cli_helpers.ts";
import { watFixture } from "../plugin_helpers.ts";

const EXAMPLES = new URL("../../plugins/examples/", import.meta.url);

/** Copies an example to a temp folder and builds it there with the CLI. */
async function built(name: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: `troupe-${name}-` });
  await cp(new URL(name, EXAMPLES), dir, { recursive: true });
  const r = await cli(["plugin", "build", dir, "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.match(out.sha256, /^[0-9a-f]{64}$/);
  assert.equal(JSON.parse(await Deno.readTextFile(`${dir}/manifest.json`)).sha256, out.sha256);
  return dir;
}

Deno.test("example plugins build and do their jobs through `plugin run`", async () => {
  const text = await built("text_transform");
  const lint = await built("lint_rule");
  const check = await built("policy_check");
  try {
    let r = await cli([
      "plugin",
      "run",
      `${text}/manifest.json`,
      "transform",
      '{"op":"slug","text":"Hello, World! Troupe 2"}',
    ]);
    assert.equal(r.stdout, '{"text":"hello-world-troupe-2"}');

    const files = [
      { path: "src/a.ts", text: "const x = 1;\n  debugger;\n" },
      { path: "keys/id", text: "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n" },
      { path: "README.md", text: "<<<<<<< HEAD\nours\n=======\ntheirs\n>>>>>>> b\n" },
    ];
    r = await cli([
      "plugin",
      "run",
      `${lint}/manifest.json`,
      "lint",
      JSON.stringify({ files }),
      "--json",
    ]);
    const findings = JSON.parse(r.stdout).output.findings as {
      rule: string;
      path: string;
      line: number;
    }[];
    assert.deepEqual(
      findings.map((f) => `${f.rule} ${f.path}:${f.line}`),
      [
        "debugger src/a.ts:2",
        "private-key keys/id:1",
        "conflict-marker README.md:1",
        "conflict-marker README.md:3",
        "conflict-marker README.md:5",
      ],
    );

    const decide = async (req: unknown, ...flags: string[]) =>
      JSON.parse(
        (await cli([
          "plugin",
          "run",
          `${check}/manifest.json`,
          "check",
          JSON.stringify(req),
          "--json",
          ...flags,
        ])).stdout,
      ).output;
    assert.equal(
      (await decide({ action: "git.push", resource: "refs/heads/main", force: true })).effect,
      "deny",
    );
    assert.equal(
      (await decide({ action: "git.push", resource: "refs/heads/feature", force: true })).effect,
      "allow",
    );
    // Configuration from the command line replaces the manifest's.
    assert.equal(
      (await decide(
        { action: "git.push", resource: "feature", force: true },
        "--config",
        "protected_branches=feature",
      )).effect,
      "deny",
    );
    assert.equal((await decide({ action: "fs.write", resource: "../etc/passwd" })).effect, "deny");
  } finally {
    for (const d of [text, lint, check]) await Deno.remove(d, { recursive: true });
  }
});

Deno.test("`plugin new` scaffolds an agent that builds, runs and inspects; limits and errors exit 1", async () => {
  const parent = await Deno.makeTempDir({ prefix: "troupe-new-" });
  try {
    assert.equal((await cli(["plugin", "new", "greeter", "--dir", parent])).code, 0);
    const again = await cli(["plugin", "new", "greeter", "--dir", parent]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already exists/);
    const dir = `${parent}/greeter`;
    assert.equal((await cli(["plugin", "build", dir])).code, 0);
    const r = await cli(["plugin", "run", `${dir}/manifest.json`, "handle", '{"message":{"n":1}}']);
    assert.deepEqual(JSON.parse(r.stdout), { reply: { hello: "from greeter", echo: { n: 1 } } });
    assert.match(r.stderr, /\[greeter\] info: greeter got \{"n":1\}/);

    const inspect = JSON.parse(
      (await cli(["plugin", "inspect", `${dir}/plugin.wasm`, "--json"])).stdout,
    );
    assert.ok(inspect.exports.some((e: { name: string }) => e.name === "handle"));
    assert.ok(
      inspect.imports.some((i: { module: string; name: string }) =>
        i.module === "troupe" && i.name === "log"
      ),
    );

    const bad = await cli(["plugin", "run", `${dir}/manifest.json`, "handle", "not json"]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /expected JSON input/);

    // A compile error is reported with file, line and column, and nothing is written.
    await Deno.writeTextFile(
      `${dir}/assembly/index.ts`,
      "export function handle(): i32 {\n  return nope;\n}\n",
    );
    const broken = await cli(["plugin", "build", dir]);
    assert.equal(broken.code, 1);
    assert.match(broken.stderr, /index\.ts:2:10: AS2304: Cannot find name 'nope'/);
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
});

Deno.test("`plugin run` stops a looping plugin by its fuel, or at --timeout-ms when fuel would last longer, and reports which as JSON", async () => {
  const dir = await Deno.makeTempDir({ prefix: "troupe-spin-" });
  try {
    await Deno.writeTextFile(
      `${dir}/plugin.wat`,
      '(module (memory (export "memory") 1) (func (export "spin") (result i32) (loop $l (br $l)) (i32.const 0)))',
    );
    await Deno.writeTextFile(
      `${dir}/manifest.json`,
      JSON.stringify({ name: "spin", wasm: "plugin.wasm" }),
    );
    assert.equal((await cli(["plugin", "build", dir])).code, 0);
    const spin = (...more: string[]) =>
      cli(["plugin", "run", `${dir}/plugin.wasm`, "spin", "--timeout-ms", "200", ...more]);
    const r = await spin("--json");
    assert.equal(r.code, 1);
    assert.equal(JSON.parse(r.stdout).error.kind, "out_of_fuel");
    // Fuel that outlasts the time limit: the limit stops it.
    const text = await spin("--fuel", String(2 ** 52));
    assert.equal(text.code, 1);
    assert.match(text.stderr, /did not finish within its 200 ms time limit/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("`plugin run` of an export that returns non-zero prints the code and exits 1", async () => {
  const dir = await Deno.makeTempDir({ prefix: "troupe-exit-" });
  try {
    await Deno.writeFile(`${dir}/exit.wasm`, await watFixture("exit_code.wat"));
    let r = await cli(["plugin", "run", `${dir}/exit.wasm`, "status", ""]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "checked");
    r = await cli(["plugin", "run", `${dir}/exit.wasm`, "status", "*"]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /status returned 42; its output: checked/);
    r = await cli(["plugin", "run", `${dir}/exit.wasm`, "status", "*", "--json"]);
    assert.equal(r.code, 1);
    const out = JSON.parse(r.stdout);
    assert.equal(out.ok, false);
    assert.equal(out.error.kind, "plugin_error");
    assert.match(out.error.message, /status returned 42/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
