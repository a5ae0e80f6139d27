import assert from "node:assert/strict";
import { join } from "node:path";
import { parse } from "yaml";
import { scan } from "../../actors/agents/scanner.ts";
import { detect } from "../../actors/agents/detector.ts";
import { ciFiles } from "../../actors/agents/ci_config.ts";

// deno-lint-ignore no-explicit-any -- parsed YAML, read by the paths each assertion names
type Doc = Record<string, any>;

/** Writes `files` into a new folder and returns what the team reads and generates there. */
async function repoWith(files: Record<string, string>) {
  const dir = await Deno.makeTempDir({ prefix: "troupe-ci-" });
  for (const [path, text] of Object.entries(files)) {
    await Deno.mkdir(join(dir, path, ".."), { recursive: true });
    await Deno.writeTextFile(join(dir, path), text);
  }
  const detection = detect(await scan(dir));
  const generated = Object.fromEntries(
    ciFiles(detection).map((f) => [f.path, parse(f.content) as Doc]),
  );
  await Deno.remove(dir, { recursive: true });
  return { detection, generated };
}

const pnpmApp = {
  "package.json": JSON.stringify({
    name: "app",
    packageManager: "pnpm@10.4.1",
    scripts: { test: "vitest run", build: "tsc" },
    devDependencies: { vitest: "^3.0.0", typescript: "^5.6.0" },
  }),
  "pnpm-lock.yaml": "lockfileVersion: '9.0'\n",
  ".nvmrc": "v22.11.0\n",
};

Deno.test("CI triggers on the repository's own branch: origin/HEAD, else the checked-out branch, else main and master, said why", async () => {
  const cases: [Record<string, string>, string[], RegExp][] = [
    [
      {
        ".git/HEAD": "ref: refs/heads/feature\n",
        ".git/refs/remotes/origin/HEAD": "ref: refs/remotes/origin/master\n",
      },
      ["master"],
      /origin\/HEAD/,
    ],
    [{ ".git/HEAD": "ref: refs/heads/trunk\n" }, ["trunk"], /checked out/],
    [{}, ["main", "master"], /no \.git folder/],
  ];
  for (const [git, names, from] of cases) {
    const { detection, generated } = await repoWith({ ...pnpmApp, ...git });
    assert.deepEqual(detection.branches?.names, names);
    assert.match(detection.branches!.from, from);
    const gh = generated[".github/workflows/ci.yml"];
    assert.deepEqual(gh.on, { push: { branches: names }, pull_request: { branches: names } });
    const gl = generated[".gitlab-ci.yml"];
    assert.deepEqual(gl.workflow.rules, [
      { if: '$CI_PIPELINE_SOURCE == "merge_request_event"' },
      ...names.map((b) => ({ if: `$CI_COMMIT_BRANCH == "${b}"` })),
    ]);
    const az = generated["azure-pipelines.yml"];
    assert.deepEqual(az.trigger, { branches: { include: names } });
    assert.deepEqual(az.pr, { branches: { include: names } });
  }
});

Deno.test("a pnpm project gets pnpm on the runner, its Node version and a frozen-lockfile install cached on its lock", async () => {
  const { detection, generated } = await repoWith(pnpmApp);
  const [p] = detection.projects;
  assert.equal(p.packageManager, "pnpm");
  assert.equal(p.runtimeVersion, "22.11.0");
  assert.equal(p.runtimeVersionFrom, ".nvmrc");
  const steps = generated[".github/workflows/ci.yml"].jobs.typescript.steps;
  assert.deepEqual(steps.map((s: { uses?: string; name?: string }) => s.uses ?? s.name), [
    "actions/checkout@v4",
    "pnpm/action-setup@v4",
    "actions/setup-node@v4",
    "Install",
    "Build",
    "Test",
  ]);
  assert.deepEqual(steps[2].with, {
    "node-version": "22.11.0",
    cache: "pnpm",
    "cache-dependency-path": "./pnpm-lock.yaml",
  });
  assert.equal(steps[3].run, "pnpm install --frozen-lockfile");
  assert.equal(steps[5].run, "pnpm test");
  const gl = generated[".gitlab-ci.yml"].typescript;
  assert.equal(gl.image, "node:22");
  assert.deepEqual(gl.script, [
    "corepack enable",
    "pnpm install --frozen-lockfile",
    "pnpm run build",
    "pnpm test",
  ]);
  const az = generated["azure-pipelines.yml"].jobs[0].steps;
  assert.deepEqual(az[0], { task: "NodeTool@0", inputs: { versionSpec: "22.11.0" } });
  assert.equal(az[1].script, "corepack enable");
});

Deno.test("Node versions come from .nvmrc, .node-version or engines; npm and yarn install by their lock files", async () => {
  const pkg = (extra: Record<string, unknown>) =>
    JSON.stringify({ name: "x", scripts: { test: "node --test" }, ...extra });
  const cases: [Record<string, string>, string | undefined, string, string][] = [
    [
      { "package.json": pkg({}), "package-lock.json": "{}", ".node-version": "20.18\n" },
      "20.18",
      "npm ci",
      "npm",
    ],
    [
      { "package.json": pkg({ engines: { node: ">=18" } }), "yarn.lock": "" },
      ">=18",
      "yarn install --frozen-lockfile",
      "yarn",
    ],
    [{ "package.json": pkg({}) }, undefined, "npm install", "npm"],
  ];
  for (const [files, version, install, pm] of cases) {
    const { detection, generated } = await repoWith(files);
    const [p] = detection.projects;
    assert.equal(p.runtimeVersion, version);
    assert.equal(p.install, install);
    assert.equal(p.packageManager, pm);
    const setup = generated[".github/workflows/ci.yml"].jobs.node.steps.find((
      s: { uses?: string },
    ) => s.uses === "actions/setup-node@v4");
    assert.equal(setup.with["node-version"], version ?? "20");
  }
});
