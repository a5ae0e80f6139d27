import assert from "node:assert/strict";
import { writeFiles } from "../cli_helpers.ts";
import { parse } from "yaml";
import { scan } from "../../actors/agents/scanner.ts";
import { detect } from "../../actors/agents/detector.ts";
import { ciFiles } from "../../actors/agents/kit/ci_config.ts";

// deno-lint-ignore no-explicit-any -- parsed YAML, read by the paths each assertion names
type Doc = Record<string, any>;

/** Writes `files` into a new folder and returns what the team reads and generates there. */
async function repoWith(files: Record<string, string>) {
  const dir = await Deno.makeTempDir({ prefix: "troupe-ci-" });
  await writeFiles(dir, files);
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

Deno.test("Rust: a pinned toolchain is installed as pinned; rust-version gives a job for it and one for stable", async () => {
  const pinned = await repoWith({
    "Cargo.toml": '[package]\nname = "x"\nversion = "0.1.0"\n',
    "src/lib.rs": "",
    "rust-toolchain.toml": '[toolchain]\nchannel = "1.79.0"\ncomponents = ["clippy"]\n',
  });
  assert.deepEqual(pinned.generated[".github/workflows/ci.yml"].jobs.rust.steps[1], {
    uses: "dtolnay/rust-toolchain@master",
    with: { toolchain: "1.79.0" },
  });
  assert.equal(pinned.generated[".gitlab-ci.yml"].rust.image, "rust:1.79.0");
  const msrv = await repoWith({
    "Cargo.toml": '[package]\nname = "x"\nversion = "0.1.0"\nrust-version = "1.70"\n',
    "src/lib.rs": "",
  });
  const gh = msrv.generated[".github/workflows/ci.yml"].jobs.rust;
  assert.deepEqual(gh.strategy.matrix, { version: ["1.70", "stable"] });
  assert.deepEqual(gh.steps[1].with, { toolchain: "${{ matrix.version }}" });
  const gl = msrv.generated[".gitlab-ci.yml"].rust;
  assert.deepEqual(gl.parallel, { matrix: [{ VERSION: ["1.70", "stable"] }] });
  assert.match(gl.script[0], /rustup toolchain install \$VERSION/);
  const az = msrv.generated["azure-pipelines.yml"].jobs[0];
  assert.deepEqual(az.strategy.matrix, {
    v1_70: { version: "1.70" },
    vstable: { version: "stable" },
  });
  assert.match(az.steps[0].script, /rustup default \$\(version\)/);
});

Deno.test("Java: the release a Maven or Gradle build compiles for picks the JDK; a parent with modules and a Gradle build with settings are one job each", async () => {
  const maven = await repoWith({
    "pom.xml": "<project><properties><maven.compiler.release>17</maven.compiler.release>" +
      "</properties><modules><module>core</module><module>app</module></modules></project>",
    "core/pom.xml": "<project/>",
    "app/pom.xml": "<project/>",
  });
  assert.deepEqual(maven.detection.projects.map((p) => [p.type, p.dir, p.runtimeVersion]), [
    ["java-maven", ".", "17"],
  ]);
  assert.equal(
    maven.generated[".github/workflows/ci.yml"].jobs["java-maven"].steps[1].with["java-version"],
    "17",
  );
  assert.equal(maven.generated[".gitlab-ci.yml"]["java-maven"].image, "maven:3-eclipse-temurin-17");
  const spring = await repoWith({
    "pom.xml": "<project><properties><java.version>1.8</java.version></properties></project>",
  });
  // Java 8 bytecode, built by a JDK that still targets it (`--release 8` needs 9 or later).
  assert.deepEqual(
    [spring.detection.projects[0].runtimeVersion, spring.detection.projects[0].runtimeVersionFrom],
    ["17", "pom.xml (targets Java 8)"],
  );
  const gradle = await repoWith({
    "settings.gradle.kts": 'rootProject.name = "x"\ninclude("lib", "app")\n',
    "build.gradle.kts": "java { toolchain { languageVersion.set(JavaLanguageVersion.of(17)) } }\n",
    "gradlew": "#!/bin/sh\n",
    "lib/build.gradle.kts": "plugins { `java-library` }\n",
    "app/build.gradle.kts": "plugins { application }\n",
  });
  assert.deepEqual(
    gradle.detection.projects.map((p) => [p.type, p.dir, p.test, p.runtimeVersion]),
    [
      ["java-gradle", ".", "./gradlew test", "17"],
    ],
  );
  assert.equal(gradle.generated[".gitlab-ci.yml"]["java-gradle"].image, "gradle:jdk17");
});

Deno.test("a Go workspace is one job over its modules, at go.work's version", async () => {
  const { detection, generated } = await repoWith({
    "go.work": "go 1.22.0\n\nuse (\n\t./api\n\t./worker // the queue\n)\n",
    "api/go.mod": "module example.com/api\n\ngo 1.22\n",
    "api/api_test.go": "package api\n",
    "worker/go.mod": "module example.com/worker\n\ngo 1.22\n",
    "worker/main.go": "package main\n",
  });
  assert.deepEqual(detection.projects.map((p) => [p.dir, p.build, p.test, p.runtimeVersion]), [
    [".", "go build ./api/... ./worker/...", "go test ./api/... ./worker/...", "1.22.0"],
  ]);
  assert.deepEqual(Object.keys(generated[".github/workflows/ci.yml"].jobs), ["go"]);
});

Deno.test("Node workspaces are one job at the root, installed once and run across members; a folder outside them keeps its own job", async () => {
  const member = (name: string, scripts: Record<string, string>) =>
    JSON.stringify({ name, version: "1.0.0", scripts });
  const npm = await repoWith({
    "package.json": JSON.stringify({ name: "mono", private: true, workspaces: ["packages/*"] }),
    "package-lock.json": "{}",
    "packages/a/package.json": member("a", { test: "node --test", build: "tsc" }),
    "packages/b/package.json": member("b", { test: "node --test" }),
    // Inside a member: its template, built by the member's own tests.
    "packages/b/template/package.json": member("template", { build: "vite build" }),
    // Test data, wherever it is.
    "test/fixtures/app/package.json": member("fixture", { test: "node --test" }),
    "examples/demo/package.json": member("demo", { test: "node --test" }),
  });
  assert.deepEqual(npm.detection.skipped?.map((p) => [p.dir, p.why]), [
    ["test/fixtures/app", "test data (in a fixtures, testdata or __tests__ folder)"],
  ]);
  // In the scan's order (by path); the members have no job of their own.
  assert.deepEqual(npm.detection.projects.map((p) => [p.dir, p.install, p.build, p.test]), [
    ["examples/demo", "npm install", undefined, "npm test"],
    [
      ".",
      "npm ci",
      "npm run build --workspaces --if-present",
      "npm run test --workspaces --if-present",
    ],
  ]);
  const pnpm = await repoWith({
    "package.json": JSON.stringify({ name: "mono", packageManager: "pnpm@9.15.0" }),
    "pnpm-lock.yaml": "lockfileVersion: '9.0'\n",
    "pnpm-workspace.yaml": "packages:\n  - 'apps/*'\n  - '!apps/legacy'\n",
    "apps/web/package.json": member("web", { test: "vitest run" }),
    "apps/legacy/package.json": member("legacy", { test: "mocha" }),
  });
  assert.deepEqual(pnpm.detection.projects.map((p) => [p.dir, p.test]), [
    // Left out of the workspace: a project of its own (no lock file of its own: npm).
    ["apps/legacy", "npm test"],
    [".", "pnpm -r run test"],
  ]);
  const berry = await repoWith({
    "package.json": JSON.stringify({
      name: "x",
      packageManager: "yarn@4.5.0",
      scripts: { test: "jest" },
    }),
    "yarn.lock": "",
  });
  assert.equal(berry.detection.projects[0].install, "yarn install --immutable");
});

Deno.test("Python: tox or nox run the tests when the project has them; undeclared pytest is installed; classifiers give a job per version", async () => {
  const tox = await repoWith({
    "pyproject.toml": '[project]\nname = "x"\n',
    "tox.ini": "[tox]\nenv_list = py311, py312\n",
    "tests/test_x.py": "def test_x(): pass\n",
  });
  assert.deepEqual(
    [tox.detection.projects[0].install, tox.detection.projects[0].test],
    ["pip install tox", "tox -e py"],
  );
  assert.equal(tox.detection.projects[0].testFrom, "tox.ini");
  const bare = await repoWith({
    "pyproject.toml": '[project]\nname = "x"\nclassifiers = [\n' +
      '  "Programming Language :: Python :: 3.12",\n' +
      '  "Programming Language :: Python :: 3.10",\n' +
      '  "Programming Language :: Python :: 3.11",\n]\n',
    "tests/test_x.py": "import unittest\n",
  });
  assert.deepEqual(
    [bare.detection.projects[0].install, bare.detection.projects[0].test],
    ["pip install -e . pytest", "python -m pytest"],
  );
  const job = bare.generated[".github/workflows/ci.yml"].jobs.python;
  assert.deepEqual(job.strategy.matrix, { version: ["3.10", "3.11", "3.12"] });
  assert.equal(job.steps[1].with["python-version"], "${{ matrix.version }}");
  assert.equal(bare.generated[".gitlab-ci.yml"].python.image, "python:$VERSION");
});

Deno.test("commands the maintainers wrote elsewhere are reused: Travis's script, a Makefile's test target; a project with nothing to build or test gets no job", async () => {
  const ruby = await repoWith({
    "Gemfile": "source 'https://rubygems.org'\n",
    ".travis.yml": "language: ruby\ninstall:\n  - bundle install --jobs 4\nscript:\n" +
      "  - bundle exec rspec\n  - bundle exec rubocop\n  - echo $TRAVIS_BRANCH\n",
  });
  assert.deepEqual(ruby.detection.projects.map((p) => [p.install, p.test, p.testFrom]), [
    ["bundle install --jobs 4", "bundle exec rspec && bundle exec rubocop", ".travis.yml"],
  ]);
  const c = await repoWith({
    "CMakeLists.txt": "project(x C)\n",
    "Makefile": "all:\n\tcc -o x x.c\n\ncheck: all\n\t./x --self-test\n",
  });
  assert.deepEqual(c.detection.projects.map((p) => [p.test, p.testFrom]), [[
    "make check",
    "Makefile",
  ]]);
  const idle = await repoWith({
    "package.json": JSON.stringify({ name: "site", version: "1.0.0" }),
    "go.mod": "module example.com/x\n\ngo 1.22\n",
    "main.go": "package main\n",
  });
  assert.deepEqual(idle.detection.projects.map((p) => p.type), ["go"]);
  assert.deepEqual(idle.detection.skipped, [{
    type: "node",
    dir: ".",
    why: "nothing to build or test: no build or test command was found",
  }]);
  assert.deepEqual(Object.keys(idle.generated[".github/workflows/ci.yml"].jobs), ["go"]);
});

Deno.test("a Deno workspace is one job running the root's test task over its members", async () => {
  const { detection } = await repoWith({
    "deno.json": JSON.stringify({
      workspace: ["./encoding", "./path"],
      tasks: { test: "deno test -A" },
    }),
    "encoding/deno.json": JSON.stringify({ name: "@x/encoding" }),
    "path/deno.json": JSON.stringify({ name: "@x/path" }),
  });
  assert.deepEqual(detection.projects.map((p) => [p.dir, p.test, p.members]), [
    [".", "deno task test", ["encoding", "path"]],
  ]);
});

Deno.test("Python: poetry and pdm install with their lock files and run the tests in their environments; a test extra is installed with pip", async () => {
  const tests = { "tests/test_x.py": "import pytest\n" };
  const poetry = await repoWith({
    ...tests,
    "pyproject.toml": '[tool.poetry]\nname = "x"\n\n[tool.poetry.group.test.dependencies]\n' +
      'pytest = "^8"\n',
    "poetry.lock": "",
  });
  const [p] = poetry.detection.projects;
  assert.deepEqual([p.packageManager, p.install, p.test], [
    "poetry",
    "poetry install",
    "poetry run pytest",
  ]);
  const steps = poetry.generated[".github/workflows/ci.yml"].jobs.python.steps;
  assert.deepEqual(steps.slice(1, 3), [
    { name: "Poetry", run: "pipx install poetry" },
    { uses: "actions/setup-python@v5", with: { "python-version": "3.12", cache: "poetry" } },
  ]);
  assert.deepEqual(poetry.generated[".gitlab-ci.yml"].python.script.slice(0, 2), [
    "pip install poetry",
    "poetry install",
  ]);
  const pdm = await repoWith({
    ...tests,
    "pyproject.toml": '[project]\nname = "x"\n\n[tool.pdm.dev-dependencies]\ntest = ["pytest"]\n',
    "pdm.lock": "",
  });
  assert.deepEqual(
    [pdm.detection.projects[0].install, pdm.detection.projects[0].test],
    ["pdm install", "pdm run pytest"],
  );
  assert.equal(
    pdm.generated[".github/workflows/ci.yml"].jobs.python.steps[1].uses,
    "pdm-project/setup-pdm@v4",
  );
  // As a real command-line HTTP client sets it up: setup.cfg's `dev` extra holds pytest.
  const extra = await repoWith({
    ...tests,
    "setup.py": "from setuptools import setup\nsetup()\n",
    "setup.cfg": "[metadata]\nname = x\n\n[options.extras_require]\ndev =\n    pytest\n" +
      "    responses\ntest =\n    pytest\n",
  });
  assert.deepEqual(
    [extra.detection.projects[0].install, extra.detection.projects[0].test],
    ['pip install -e ".[test]"', "python -m pytest"],
  );
});
