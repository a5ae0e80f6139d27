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

Deno.test("Python: uv projects sync their lock with every group and run pytest through uv; PEP 735 test groups are installed with pip; versions from .python-version or requires-python", async () => {
  const pyproject = (extra = "") =>
    `[project]\nname = "pkg"\nrequires-python = ">=3.10"\n${extra}\n[dependency-groups]\ntest = ["pytest>=8"]\n`;
  const uv = await repoWith({
    "pyproject.toml": pyproject(),
    "uv.lock": "version = 1\n",
    ".python-version": "3.11\n",
    "tests/test_pkg.py": "def test_ok():\n    assert True\n",
  });
  const [p] = uv.detection.projects;
  assert.deepEqual([p.install, p.test, p.runtimeVersion], [
    "uv sync --locked --all-groups",
    "uv run pytest",
    "3.11",
  ]);
  const steps = uv.generated[".github/workflows/ci.yml"].jobs.python.steps;
  assert.deepEqual(steps[1], {
    uses: "astral-sh/setup-uv@v6",
    with: { "python-version": "3.11", "enable-cache": true },
  });
  const pip = await repoWith({
    "pyproject.toml": pyproject(),
    "tests/test_pkg.py": "def test_ok():\n    assert True\n",
  });
  const [q] = pip.detection.projects;
  assert.deepEqual([q.install, q.test, q.runtimeVersion, q.runtimeVersionFrom], [
    "pip install -e . --group test",
    "python -m pytest",
    ">=3.10",
    "requires-python in pyproject.toml",
  ]);
  assert.equal(
    pip.generated[".github/workflows/ci.yml"].jobs.python.steps[1].with["python-version"],
    "3.10",
  );
});

Deno.test("a Cargo workspace is one job that tests the workspace; Maven and Gradle use the project's wrapper when it has one", async () => {
  const cargo = await repoWith({
    "Cargo.toml": '[workspace]\nmembers = ["core", "cli"]\nresolver = "2"\n',
    "Cargo.lock": "version = 4\n",
    "core/Cargo.toml": '[package]\nname = "core"\nversion = "0.1.0"\n',
    "core/src/lib.rs": "pub fn f() {}\n",
    "cli/Cargo.toml": '[package]\nname = "cli"\nversion = "0.1.0"\n',
    "cli/src/main.rs": "fn main() {}\n",
  });
  assert.deepEqual(cargo.detection.projects.map((p) => [p.dir, p.build, p.test]), [
    [".", "cargo build --workspace --locked", "cargo test --workspace"],
  ]);
  assert.deepEqual(Object.keys(cargo.generated[".github/workflows/ci.yml"].jobs), ["rust"]);

  const maven = await repoWith({ "pom.xml": "<project/>", "mvnw": "#!/bin/sh\n" });
  assert.equal(maven.detection.projects[0].test, "./mvnw -B test");
  const plainMaven = await repoWith({ "pom.xml": "<project/>" });
  assert.equal(plainMaven.detection.projects[0].test, "mvn -B test");
  const gradle = await repoWith({ "build.gradle": "plugins {}\n" });
  assert.equal(gradle.detection.projects[0].test, "gradle test");
  const wrapped = await repoWith({ "build.gradle": "plugins {}\n", "gradlew": "#!/bin/sh\n" });
  assert.equal(wrapped.detection.projects[0].test, "./gradlew test");
});

Deno.test("a .NET solution is one job that restores, builds and tests it, with setup-dotnet for the SDKs its projects target (or its global.json)", async () => {
  const csproj = (tf: string, extra = "") =>
    `<Project Sdk="Microsoft.NET.Sdk"><PropertyGroup><${tf}</PropertyGroup>${extra}</Project>`;
  const files = {
    "App.sln": "Microsoft Visual Studio Solution File\n",
    "src/Lib/Lib.csproj": csproj("TargetFramework>net8.0</TargetFramework>"),
    "tools/Build/Build.csproj": csproj("TargetFramework>net8.0</TargetFramework>"),
    "tests/Lib.Tests/Lib.Tests.csproj": csproj(
      "TargetFrameworks>net8.0;net9.0</TargetFrameworks>",
      '<ItemGroup><PackageReference Include="Microsoft.NET.Test.Sdk" Version="17.0.0" /></ItemGroup>',
    ),
  };
  const { detection, generated } = await repoWith(files);
  assert.deepEqual(detection.projects.map((p) => [p.dir, p.install, p.build, p.test]), [
    [
      ".",
      "dotnet restore App.sln",
      "dotnet build App.sln --no-restore",
      "dotnet test App.sln --no-build",
    ],
  ]);
  const gh = generated[".github/workflows/ci.yml"];
  assert.deepEqual(Object.keys(gh.jobs), ["dotnet"]);
  assert.deepEqual(gh.jobs.dotnet.steps[1], {
    uses: "actions/setup-dotnet@v4",
    with: { "dotnet-version": "8.0.x\n9.0.x" },
  });
  assert.equal(generated[".gitlab-ci.yml"].dotnet.image, "mcr.microsoft.com/dotnet/sdk:8.0");
  const pinned = await repoWith({ ...files, "global.json": '{"sdk": {"version": "8.0.404"}}' });
  assert.deepEqual(pinned.generated[".github/workflows/ci.yml"].jobs.dotnet.steps[1].with, {
    "global-json-file": "./global.json",
  });
  assert.deepEqual(pinned.generated["azure-pipelines.yml"].jobs[0].steps[0], {
    task: "UseDotNet@2",
    inputs: { useGlobalJson: true },
  });
  // A lone project without tests gets no test step.
  const lib = await repoWith({ "Lib.csproj": csproj("TargetFramework>net8.0</TargetFramework>") });
  assert.equal(lib.detection.projects[0].test, undefined);
});

Deno.test("Go: the version go.mod asks for (toolchain, else go) picks the container image and Azure's Go", async () => {
  const { detection, generated } = await repoWith({
    "go.mod": "module example.com/x\n\ngo 1.23\n\ntoolchain go1.23.4\n",
    "main.go": "package main\nfunc main() {}\n",
  });
  assert.equal(detection.projects[0].runtimeVersion, "1.23.4");
  assert.equal(generated[".gitlab-ci.yml"].go.image, "golang:1.23");
  assert.deepEqual(generated["azure-pipelines.yml"].jobs[0].steps[0].inputs, { version: "1.23.4" });
});
