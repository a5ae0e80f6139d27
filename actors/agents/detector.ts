import { defineAgent } from "../orchestrator/define_agent.ts";
import type { Branches, Detection, Project, ScanResult } from "./repo_facts.ts";

/** Project types, toolchains, test frameworks and existing CI, from the scan alone. */

const dirOf = (path: string) => (path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : ".");
const exists = (scan: ScanResult, path: string) => scan.files.some((f) => f.path === path);
const inDir = (dir: string, name: string) => (dir === "." ? name : `${dir}/${name}`);

function node(scan: ScanResult, manifest: string): Project {
  const dir = dirOf(manifest);
  let pkg: {
    scripts?: Record<string, string>;
    devDependencies?: Record<string, string>;
    dependencies?: Record<string, string>;
    packageManager?: string;
    engines?: { node?: string };
  } = {};
  try {
    pkg = JSON.parse(scan.keyFiles[manifest] ?? "{}");
  } catch { /* an unreadable package.json is reported by the assessor */ }
  const deps = { ...pkg.dependencies, ...pkg.devDependencies };
  const lock = ["package-lock.json", "yarn.lock", "pnpm-lock.yaml", "bun.lockb", "bun.lock"].find((
    l,
  ) => exists(scan, inDir(dir, l)));
  // `packageManager` (corepack's field) wins over the lock file.
  const declared = pkg.packageManager?.match(/^(npm|pnpm|yarn|bun)@/)?.[1];
  const pm = declared ??
    (lock === "yarn.lock"
      ? "yarn"
      : lock === "pnpm-lock.yaml"
      ? "pnpm"
      : lock?.startsWith("bun.")
      ? "bun"
      : "npm");
  const framework = ["vitest", "jest", "mocha", "ava", "tap"].find((f) => f in deps) ??
    (pkg.scripts?.test?.includes("node --test") ? "node:test" : undefined);
  const hasTs = "typescript" in deps || exists(scan, inDir(dir, "tsconfig.json"));
  const install = {
    npm: lock === "package-lock.json" ? "npm ci" : "npm install",
    pnpm: "pnpm install --frozen-lockfile",
    yarn: "yarn install --frozen-lockfile",
    bun: "bun install --frozen-lockfile",
  }[pm as "npm" | "pnpm" | "yarn" | "bun"];
  const version = nodeVersion(scan, dir, pkg.engines?.node);
  return {
    type: hasTs ? "typescript" : "node",
    dir,
    manifest,
    install,
    build: pkg.scripts?.build ? `${pm} run build` : undefined,
    test: pkg.scripts?.test && !/no test specified/.test(pkg.scripts.test)
      ? `${pm} test`
      : undefined,
    testFramework: framework,
    lockfile: lock,
    packageManager: pm,
    ...(version ? { runtimeVersion: version.version, runtimeVersionFrom: version.from } : {}),
  };
}

/** The Node version a project asks for: `.nvmrc`, `.node-version`, then `engines.node`. */
function nodeVersion(
  scan: ScanResult,
  dir: string,
  engines?: string,
): { version: string; from: string } | undefined {
  for (const name of [".nvmrc", ".node-version"]) {
    const text = scan.keyFiles[inDir(dir, name)] ?? (dir !== "." ? scan.keyFiles[name] : undefined);
    const v = text?.split("\n")[0].trim().replace(/^v(?=\d)/, "");
    if (v) return { version: v, from: name };
  }
  return engines ? { version: engines, from: "engines.node in package.json" } : undefined;
}

/** A test project references the test SDK (or is named as one). */
const isTestProject = (scan: ScanResult, csproj: string) =>
  /Microsoft\.NET\.Test\.Sdk|xunit|nunit|MSTest/i.test(scan.keyFiles[csproj] ?? "") ||
  /(^|[./])Tests?\.csproj$/i.test(csproj);

/** The SDK a .NET project needs: `global.json`, else its target frameworks (`net8.0` → 8.0). */
function dotnetVersion(
  scan: ScanResult,
  dir: string,
  csprojs: string[],
): { version: string; from: string } | undefined {
  if (scan.keyFiles[inDir(dir, "global.json")] ?? scan.keyFiles["global.json"]) {
    return { version: "global.json", from: "global.json" };
  }
  const frameworks = new Set<string>();
  for (const c of csprojs) {
    for (const m of (scan.keyFiles[c] ?? "").matchAll(/<TargetFrameworks?>([^<]+)</g)) {
      for (const tf of m[1].split(";")) {
        const v = tf.trim().match(/^net(\d+\.\d+)/)?.[1];
        if (v) frameworks.add(`${v}.x`);
      }
    }
  }
  return frameworks.size
    ? { version: [...frameworks].sort().join(","), from: "TargetFramework in the projects" }
    : undefined;
}

function dotnetSolution(scan: ScanResult, manifest: string): Project {
  const dir = dirOf(manifest);
  const csprojs = scan.files.map((f) => f.path).filter((p) =>
    p.endsWith(".csproj") && (dir === "." || p.startsWith(`${dir}/`))
  );
  const sln = manifest.split("/").pop()!;
  const version = dotnetVersion(scan, dir, csprojs);
  return {
    type: "dotnet",
    dir,
    manifest,
    install: `dotnet restore ${sln}`,
    build: `dotnet build ${sln} --no-restore`,
    test: csprojs.some((c) => isTestProject(scan, c)) ? `dotnet test ${sln} --no-build` : undefined,
    ...(version ? { runtimeVersion: version.version, runtimeVersionFrom: version.from } : {}),
  };
}

function dotnetProject(scan: ScanResult, manifest: string): Project {
  const dir = dirOf(manifest);
  const version = dotnetVersion(scan, dir, [manifest]);
  return {
    type: "dotnet",
    dir,
    manifest,
    build: "dotnet build",
    test: isTestProject(scan, manifest) ? "dotnet test" : undefined,
    ...(version ? { runtimeVersion: version.version, runtimeVersionFrom: version.from } : {}),
  };
}

function denoTasks(scan: ScanResult, manifest: string): Record<string, unknown> {
  try {
    return JSON.parse(scan.keyFiles[manifest] ?? "{}").tasks ?? {};
  } catch {
    return {}; // deno.jsonc with comments: fall back to plain `deno test`
  }
}

function python(scan: ScanResult, manifest: string): Project {
  const dir = dirOf(manifest);
  const text = Object.entries(scan.keyFiles).filter(([p]) => dirOf(p) === dir).map(([, t]) => t)
    .join("\n");
  const hasTests = scan.files.some((f) =>
    /(^|\/)(tests?\/|test_[^/]*\.py$|[^/]*_test\.py$)/.test(f.path)
  );
  const lock = ["poetry.lock", "Pipfile.lock", "uv.lock", "requirements.txt"].find((l) =>
    exists(scan, inDir(dir, l))
  );
  const pyproject = scan.keyFiles[inDir(dir, "pyproject.toml")] ?? "";
  // PEP 735 dependency groups: the tests' own dependencies (pytest…) often live in one.
  const groups = [
    ...(pyproject.match(/^\[dependency-groups\]\s*\n([\s\S]*?)(?=^\[|$(?![\s\S]))/m)?.[1] ?? "")
      .matchAll(/^([A-Za-z0-9_.-]+)\s*=/gm),
  ].map((m) => m[1]);
  const testGroup = ["test", "tests", "dev"].find((g) => groups.includes(g));
  const uv = lock === "uv.lock";
  const install = uv
    ? "uv sync --locked --all-groups"
    : exists(scan, inDir(dir, "requirements.txt"))
    ? "pip install -r requirements.txt"
    : testGroup
    ? `pip install -e . --group ${testGroup}`
    : "pip install -e .";
  const version = (scan.keyFiles[inDir(dir, ".python-version")] ?? "").split("\n")[0].trim() ||
    pyproject.match(/^requires-python\s*=\s*"([^"]+)"/m)?.[1];
  return {
    type: "python",
    dir,
    manifest,
    install,
    test: hasTests ? (uv ? "uv run pytest" : "python -m pytest") : undefined,
    testFramework: /pytest/.test(text) || hasTests ? "pytest" : undefined,
    lockfile: lock,
    packageManager: uv ? "uv" : "pip",
    ...(version
      ? {
        runtimeVersion: version,
        runtimeVersionFrom: scan.keyFiles[inDir(dir, ".python-version")]
          ? ".python-version"
          : "requires-python in pyproject.toml",
      }
      : {}),
  };
}

/** `toolchain go1.22.3`, else `go 1.22`, from go.mod. */
const goVersion = (gomod = "") =>
  gomod.match(/^toolchain go(\d+\.\d+(?:\.\d+)?)/m)?.[1] ?? gomod.match(/^go (\d+\.\d+)/m)?.[1];

const simple: Record<string, (dir: string, scan: ScanResult, manifest: string) => Project> = {
  "go.mod": (dir, scan, manifest) => ({
    type: "go",
    dir,
    manifest,
    ...(goVersion(scan.keyFiles[manifest])
      ? { runtimeVersion: goVersion(scan.keyFiles[manifest]), runtimeVersionFrom: "go.mod" }
      : {}),
    install: "go mod download",
    build: "go build ./...",
    test: scan.files.some((f) => f.path.endsWith("_test.go")) ? "go test ./..." : undefined,
    testFramework: "go test",
    lockfile: exists(scan, inDir(dir, "go.sum")) ? "go.sum" : undefined,
  }),
  "Cargo.toml": (dir, scan, manifest) => {
    // A workspace is built and tested as one, with its one lock file.
    const workspace = /^\[workspace\]/m.test(scan.keyFiles[manifest] ?? "");
    const all = workspace ? " --workspace" : "";
    const locked = exists(scan, inDir(dir, "Cargo.lock"));
    return {
      type: "rust",
      dir,
      manifest,
      build: `cargo build${all}${locked ? " --locked" : ""}`,
      test: `cargo test${all}`,
      testFramework: "cargo test",
      lockfile: locked ? "Cargo.lock" : undefined,
    };
  },
  "deno.json": (dir, scan, manifest) => ({
    type: "deno",
    dir,
    manifest,
    // A project's own test task knows its permissions; `deno test -A` is the fallback.
    test: denoTasks(scan, manifest).test ? "deno task test" : "deno test -A",
    testFramework: "deno test",
  }),
  "pom.xml": (dir, scan, manifest) => {
    // The project's own wrapper pins its Maven version.
    const mvn = exists(scan, inDir(dir, "mvnw")) ? "./mvnw" : "mvn";
    return {
      type: "java-maven",
      dir,
      manifest,
      build: `${mvn} -B package -DskipTests`,
      test: `${mvn} -B test`,
      testFramework: "junit",
    };
  },
  "build.gradle": (dir, scan, manifest) => {
    const gradle = exists(scan, inDir(dir, "gradlew")) ? "./gradlew" : "gradle";
    return {
      type: "java-gradle",
      dir,
      manifest,
      build: `${gradle} build -x test`,
      test: `${gradle} test`,
      testFramework: "junit",
    };
  },
  "Gemfile": (dir, _s, manifest) => ({
    type: "ruby",
    dir,
    manifest,
    install: "bundle install",
    test: "bundle exec rake test",
  }),
  "composer.json": (dir, _s, manifest) => ({
    type: "php",
    dir,
    manifest,
    install: "composer install",
    test: "vendor/bin/phpunit",
  }),
  "CMakeLists.txt": (dir, _s, manifest) => ({
    type: "cmake",
    dir,
    manifest,
    build: "cmake -S . -B build && cmake --build build",
    test: "ctest --test-dir build",
  }),
};

export function detect(scan: ScanResult): Detection {
  const projects: Project[] = [];
  for (const f of scan.files) {
    const name = f.path.split("/").pop()!;
    if (f.path.split("/").includes("node_modules")) continue;
    if (name === "package.json") projects.push(node(scan, f.path));
    else if (name === "pyproject.toml" || name === "setup.py") {
      if (!projects.some((p) => p.type === "python" && p.dir === dirOf(f.path))) {
        projects.push(python(scan, f.path));
      }
    } else if (/\.slnx?$/.test(name)) projects.push(dotnetSolution(scan, f.path));
    else if (name.endsWith(".csproj")) projects.push(dotnetProject(scan, f.path));
    else if (simple[name]) projects.push(simple[name](dirOf(f.path), scan, f.path));
  }
  // A .NET solution builds and tests its projects: one job, not one per project.
  for (const sln of projects.filter((p) => p.type === "dotnet" && /\.slnx?$/.test(p.manifest))) {
    for (
      const member of projects.filter((p) =>
        p.type === "dotnet" && p !== sln && (sln.dir === "." || p.dir.startsWith(`${sln.dir}/`))
      )
    ) projects.splice(projects.indexOf(member), 1);
  }
  // Members of a Cargo workspace are tested by the workspace's one job, not one each.
  const workspaces = projects.filter((p) => p.type === "rust" && p.test?.includes("--workspace"));
  for (const w of workspaces) {
    for (
      const member of projects.filter((p) =>
        p.type === "rust" && p !== w && (w.dir === "." || p.dir.startsWith(`${w.dir}/`))
      )
    ) projects.splice(projects.indexOf(member), 1);
  }
  const languages: Record<string, number> = {};
  for (const f of scan.files) {
    if (f.language) languages[f.language] = (languages[f.language] ?? 0) + 1;
  }
  const existingCi = scan.files.map((f) => f.path).filter((p) =>
    /^\.github\/workflows\/[^/]+\.ya?ml$/.test(p) || p === ".gitlab-ci.yml" ||
    p === "azure-pipelines.yml" || p === ".circleci/config.yml" || p === "Jenkinsfile"
  );
  return {
    projects,
    branches: branches(scan),
    languages,
    existingCi,
    hasDocker: scan.files.some((f) => /(^|\/)Dockerfile$/.test(f.path)),
  };
}

/**
 * The branch CI runs on: the remote's default branch (`origin/HEAD`), else the one checked out;
 * without `.git`, both usual names, and the report says why.
 */
export function branches(scan: ScanResult): Branches {
  if (scan.git?.remoteHead) return { names: [scan.git.remoteHead], from: "origin/HEAD in .git" };
  if (scan.git?.head) return { names: [scan.git.head], from: "the branch checked out (.git/HEAD)" };
  return {
    names: ["main", "master"],
    from: scan.git
      ? "no branch checked out in .git: main and master"
      : "no .git folder: main and master",
  };
}

export default defineAgent({
  detect: (_inputs, deps) => detect(deps.scan as ScanResult),
});
