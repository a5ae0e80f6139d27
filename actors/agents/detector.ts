import picomatch from "picomatch";
import { parse } from "yaml";
import { defineAgent } from "../orchestrator/define_agent.ts";
import { knownCommands } from "./other_ci.ts";
import type { Branches, Detection, Project, ScanResult, SkippedProject } from "./repo_facts.ts";

/** Project types, toolchains, test frameworks and existing CI, from the scan alone. */

const dirOf = (path: string) => (path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : ".");
const exists = (scan: ScanResult, path: string) => scan.files.some((f) => f.path === path);
const inDir = (dir: string, name: string) => (dir === "." ? name : `${dir}/${name}`);
/** `path` is in folder `dir` or below it. */
const within = (dir: string, path: string) =>
  dir === "." || path === dir || path.startsWith(`${dir}/`);
/** Folders that hold test data, not projects of their own. */
const TEST_DATA = /(^|\/)(fixtures?|testdata|test-data|__tests__|__fixtures__)(\/|$)/;

function node(scan: ScanResult, manifest: string): Project {
  const dir = dirOf(manifest);
  let pkg: {
    scripts?: Record<string, string>;
    devDependencies?: Record<string, string>;
    dependencies?: Record<string, string>;
    packageManager?: string;
    engines?: { node?: string };
    workspaces?: unknown;
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
  // Yarn 2 and later (a `.yarnrc.yml`, or `packageManager: yarn@2+`) spell it --immutable.
  const berry = pm === "yarn" &&
    (exists(scan, inDir(dir, ".yarnrc.yml")) || /^yarn@[2-9]/.test(pkg.packageManager ?? ""));
  const install = {
    npm: lock === "package-lock.json" ? "npm ci" : "npm install",
    pnpm: "pnpm install --frozen-lockfile",
    yarn: berry ? "yarn install --immutable" : "yarn install --frozen-lockfile",
    bun: "bun install --frozen-lockfile",
  }[pm as "npm" | "pnpm" | "yarn" | "bun"];
  const version = nodeVersion(scan, dir, pkg.engines?.node);
  const members = nodeWorkspaces(scan, dir, pkg);
  const hasTest = !!pkg.scripts?.test && !/no test specified/.test(pkg.scripts.test);
  // A workspace root runs its members' scripts through its package manager, unless its own
  // script does.
  const inAll = (script: string) =>
    ({
      npm: `npm run ${script} --workspaces --if-present`,
      pnpm: `pnpm -r run ${script}`,
      yarn: berry ? `yarn workspaces foreach -A run ${script}` : `yarn workspaces run ${script}`,
      bun: `bun run --filter '*' ${script}`,
    })[pm as "npm" | "pnpm" | "yarn" | "bun"];
  return {
    type: hasTs ? "typescript" : "node",
    dir,
    manifest,
    install,
    build: pkg.scripts?.build
      ? `${pm} run build`
      : members.length && anyScript(scan, members, "build")
      ? inAll("build")
      : undefined,
    test: hasTest
      ? `${pm} test`
      : members.length && anyScript(scan, members, "test")
      ? inAll("test")
      : undefined,
    ...(members.length ? { members } : {}),
    testFramework: framework,
    lockfile: lock,
    packageManager: pm,
    ...(version ? { runtimeVersion: version.version, runtimeVersionFrom: version.from } : {}),
  };
}

/**
 * The member folders of a Node workspace rooted at `dir`: `workspaces` in package.json (npm,
 * yarn, bun) or `pnpm-workspace.yaml`'s `packages`, matched against the folders that hold a
 * package.json.
 */
function nodeWorkspaces(
  scan: ScanResult,
  dir: string,
  pkg: { workspaces?: unknown },
): string[] {
  const declared = Array.isArray(pkg.workspaces)
    ? pkg.workspaces
    : (pkg.workspaces as { packages?: unknown } | undefined)?.packages;
  let globs = Array.isArray(declared) ? declared.filter((g) => typeof g === "string") : [];
  const pnpm = scan.keyFiles[inDir(dir, "pnpm-workspace.yaml")];
  if (pnpm) {
    try {
      const doc = parse(pnpm) as { packages?: unknown } | null;
      if (Array.isArray(doc?.packages)) globs = doc.packages.filter((g) => typeof g === "string");
    } catch { /* an unreadable workspace file: no members */ }
  }
  const included = globs.filter((g) => !g.startsWith("!")).map((g) =>
    inDir(dir, g.replace(/^\.\//, "").replace(/\/$/, ""))
  );
  const excluded = globs.filter((g) => g.startsWith("!")).map((g) =>
    inDir(dir, g.slice(1).replace(/^\.\//, "").replace(/\/$/, ""))
  );
  if (included.length === 0) return [];
  const isMember = picomatch(included, { ignore: excluded });
  return scan.files
    .filter((f) => f.path.endsWith("/package.json") && !f.path.includes("node_modules/"))
    .map((f) => dirOf(f.path))
    .filter((d) => d !== dir && isMember(d));
}

/** Whether any of these member folders' package.json has `script`. */
function anyScript(scan: ScanResult, members: string[], script: string): boolean {
  return members.some((m) => {
    try {
      return !!JSON.parse(scan.keyFiles[`${m}/package.json`] ?? "{}").scripts?.[script];
    } catch {
      return false;
    }
  });
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

function denoConfig(scan: ScanResult, manifest: string): { tasks?: unknown; workspace?: unknown } {
  try {
    return JSON.parse(scan.keyFiles[manifest] ?? "{}") ?? {};
  } catch {
    return {}; // deno.jsonc with comments: fall back to plain `deno test`
  }
}

/** A Deno project; a `workspace` root tests its members with it, as one job. */
function deno(dir: string, scan: ScanResult, manifest: string): Project {
  const config = denoConfig(scan, manifest);
  const tasks = (config.tasks ?? {}) as Record<string, unknown>;
  const members = Array.isArray(config.workspace)
    ? config.workspace.filter((m) => typeof m === "string").map((m) =>
      inDir(dir, m.replace(/^\.\//, "").replace(/\/$/, ""))
    )
    : [];
  return {
    type: "deno",
    dir,
    manifest,
    // A project's own test task knows its permissions; `deno test -A` is the fallback.
    test: tasks.test ? "deno task test" : "deno test -A",
    testFramework: "deno test",
    ...(members.length ? { members } : {}),
  };
}

function python(scan: ScanResult, manifest: string): Project {
  const dir = dirOf(manifest);
  const text = Object.entries(scan.keyFiles).filter(([p]) => dirOf(p) === dir).map(([, t]) => t)
    .join("\n");
  const hasTests = scan.files.some((f) =>
    within(dir, f.path) && /(^|\/)(tests?\/|test_[^/]*\.py$|[^/]*_test\.py$)/.test(f.path)
  );
  const lock = ["poetry.lock", "pdm.lock", "Pipfile.lock", "uv.lock", "requirements.txt"].find((
    l,
  ) => exists(scan, inDir(dir, l)));
  const pyproject = scan.keyFiles[inDir(dir, "pyproject.toml")] ?? "";
  const tableKeys = (text: string, table: string) =>
    [
      ...(text.match(new RegExp(`^\\[${table}\\]\\s*\\n([\\s\\S]*?)(?=^\\[|$(?![\\s\\S]))`, "m"))
        ?.[1] ?? "").matchAll(/^([A-Za-z0-9_.-]+)\s*=/gm),
    ].map((m) => m[1]);
  const TEST_NAMES = ["test", "tests", "testing", "dev"];
  // PEP 735 dependency groups: the tests' own dependencies (pytest…) often live in one.
  const testGroup = TEST_NAMES.find((g) => tableKeys(pyproject, "dependency-groups").includes(g));
  // Else an extra for the tests: pyproject's optional-dependencies, setup.cfg or setup.py.
  const extras = [
    ...tableKeys(pyproject, "project\\.optional-dependencies"),
    ...tableKeys(scan.keyFiles[inDir(dir, "setup.cfg")] ?? "", "options\\.extras_require"),
    ...[
      ...(scan.keyFiles[inDir(dir, "setup.py")] ?? "").match(/extras_require\s*=\s*\{([^}]*)\}/)
        ?.[1].matchAll(/["']([A-Za-z0-9_.-]+)["']\s*:/g) ?? [],
    ].map((m) => m[1]),
  ];
  const testExtra = TEST_NAMES.find((e) => extras.includes(e));
  const manager = lock === "uv.lock"
    ? "uv"
    : lock === "poetry.lock" || /^\[tool\.poetry\]/m.test(pyproject)
    ? "poetry"
    : lock === "pdm.lock"
    ? "pdm"
    : "pip";
  // pytest runs unittest suites too; where the project does not declare it, CI installs it.
  const declaresPytest = /pytest/.test(text);
  const withPytest = declaresPytest ? "" : " pytest";
  const pipInstall = exists(scan, inDir(dir, "requirements.txt"))
    ? "pip install -r requirements.txt"
    : testGroup
    ? `pip install -e . --group ${testGroup}`
    : testExtra
    ? `pip install -e ".[${testExtra}]"`
    : "pip install -e .";
  // A lock-file manager installs the project with its groups (poetry: the non-optional ones; pdm:
  // the dev ones) and runs the tests in its environment.
  const locked = {
    uv: ["uv sync --locked --all-groups", "uv run"],
    poetry: ["poetry install", "poetry run"],
    pdm: ["pdm install", "pdm run"],
  }[manager as "uv" | "poetry" | "pdm"];
  const runner = exists(scan, inDir(dir, "tox.ini"))
    ? "tox"
    : exists(scan, inDir(dir, "noxfile.py"))
    ? "nox"
    : undefined;
  const known = runner ? undefined : knownCommands(scan, dir);
  const [install, test, testFrom] = runner
    // The project's own test runner makes its environments and installs what they need, tox
    // under the job's own Python (`tox -e py`; nox sessions name their own interpreters).
    ? [
      `pip install ${runner}`,
      runner === "tox" ? "tox -e py" : "nox",
      runner === "tox" ? "tox.ini" : "noxfile.py",
    ]
    : known && (!hasTests || !declaresPytest)
    ? [known.install ?? locked?.[0] ?? pipInstall, known.test, known.from]
    : !hasTests
    ? [locked?.[0] ?? pipInstall, undefined, undefined]
    : locked
    ? [
      locked[0],
      declaresPytest
        ? `${locked[1]} pytest`
        : manager === "uv"
        ? "uv run --with pytest pytest"
        : `${locked[1]} python -m pytest`,
      undefined,
    ]
    : [`${pipInstall}${withPytest}`, "python -m pytest", undefined];
  const pinned = (scan.keyFiles[inDir(dir, ".python-version")] ?? "").split("\n")[0].trim();
  const version = pinned || pyproject.match(/^requires-python\s*=\s*"([^"]+)"/m)?.[1];
  // Versions the package says it supports (trove classifiers): a job for each.
  const classified = [
    ...new Set(
      [...text.matchAll(/Programming Language :: Python :: (3\.\d+)\b/g)].map((m) => m[1]),
    ),
  ].sort((a, b) => Number(a.split(".")[1]) - Number(b.split(".")[1]));
  return {
    type: "python",
    dir,
    manifest,
    install,
    test,
    ...(testFrom ? { testFrom } : {}),
    testFramework: runner ?? (declaresPytest || hasTests ? "pytest" : undefined),
    lockfile: lock,
    packageManager: manager,
    ...(version
      ? {
        runtimeVersion: version,
        runtimeVersionFrom: pinned ? ".python-version" : "requires-python in pyproject.toml",
      }
      : {}),
    ...(!pinned && classified.length > 1 ? { matrix: classified } : {}),
  };
}

/** `toolchain go1.22.3`, else `go 1.22`, from go.mod or go.work. */
const goVersion = (gomod = "") =>
  gomod.match(/^toolchain go(\d+\.\d+(?:\.\d+)?)/m)?.[1] ??
    gomod.match(/^go (\d+\.\d+(?:\.\d+)?)/m)?.[1];

/** The module folders a go.work `use`s, relative to it: `use ./a` and `use ( ./a ./b )`. */
function goWorkUses(gowork: string): string[] {
  const text = gowork.replace(/\/\/.*$/gm, "");
  const single = [...text.matchAll(/^\s*use\s+([^\s(]\S*)\s*$/gm)].map((m) => m[1]);
  const blocks = [...text.matchAll(/^\s*use\s*\(([^)]*)\)/gm)].flatMap((m) =>
    m[1].split("\n").map((l) => l.trim()).filter(Boolean)
  );
  return [...single, ...blocks].map((u) => u.replace(/^\.\/?/, "").replace(/\/$/, ""));
}

/**
 * The Rust toolchain: `rust-toolchain.toml`'s channel or `rust-toolchain`'s line pins one;
 * else `rust-version` (the oldest supported) gives a job for it and one for stable.
 */
function rustVersions(scan: ScanResult, dir: string, cargo: string): Partial<Project> {
  const toml = scan.keyFiles[inDir(dir, "rust-toolchain.toml")];
  const plain = scan.keyFiles[inDir(dir, "rust-toolchain")];
  const pinned = toml?.match(/^\s*channel\s*=\s*"([^"]+)"/m)?.[1] ??
    (plain && !plain.includes("[") ? plain.split("\n")[0].trim() : undefined) ??
    plain?.match(/^\s*channel\s*=\s*"([^"]+)"/m)?.[1];
  if (pinned) {
    return {
      runtimeVersion: pinned,
      runtimeVersionFrom: toml ? "rust-toolchain.toml" : "rust-toolchain",
    };
  }
  const msrv = cargo.match(/^rust-version\s*=\s*"([^"]+)"/m)?.[1];
  return msrv
    ? {
      runtimeVersion: msrv,
      runtimeVersionFrom: "rust-version in Cargo.toml",
      matrix: [msrv, "stable"],
    }
    : {};
}

/**
 * The Java version a build asks for: Maven's `maven.compiler.release`, `<release>`,
 * `maven.compiler.source` or Spring's `java.version`; Gradle's toolchain `languageVersion`,
 * `jvmToolchain(N)` or `sourceCompatibility`. `1.8` is Java 8.
 */
function javaVersion(text: string, from: string): Partial<Project> {
  const found = text.match(/<maven\.compiler\.release>\s*([\d.]+)\s*</)?.[1] ??
    text.match(/<release>\s*([\d.]+)\s*<\/release>/)?.[1] ??
    text.match(/<maven\.compiler\.source>\s*([\d.]+)\s*</)?.[1] ??
    text.match(/<java\.version>\s*([\d.]+)\s*</)?.[1] ??
    text.match(/JavaLanguageVersion\.of\(\s*(\d+)\s*\)/)?.[1] ??
    text.match(/jvmToolchain\(\s*(\d+)\s*\)/)?.[1] ??
    text.match(/sourceCompatibility\s*=\s*(?:JavaVersion\.VERSION_)?['"]?([\d._]+)/)?.[1];
  if (!found) return {};
  const target = Number(found.replace("_", ".").replace(/^1\.(\d+)$/, "$1"));
  // A Gradle toolchain needs that very JDK; a release or source level is a target, which a newer
  // JDK compiles for (`--release` needs 9 or later): at least 17, an LTS that still targets 8.
  const toolchain = /JavaLanguageVersion\.of|jvmToolchain/.test(text);
  const version = String(toolchain ? target : Math.max(target, 17));
  return {
    runtimeVersion: version,
    runtimeVersionFrom: toolchain || target >= 17 ? from : `${from} (targets Java ${target})`,
  };
}

function gradle(dir: string, scan: ScanResult, manifest: string): Project {
  const gradlew = exists(scan, inDir(dir, "gradlew")) ? "./gradlew" : "gradle";
  const text = ["build.gradle", "build.gradle.kts", "settings.gradle", "settings.gradle.kts"]
    .map((n) => scan.keyFiles[inDir(dir, n)] ?? "").join("\n");
  return {
    type: "java-gradle",
    dir,
    manifest,
    build: `${gradlew} build -x test`,
    test: `${gradlew} test`,
    testFramework: "junit",
    ...javaVersion(text, "the Gradle build"),
  };
}

/** Ruby, PHP and C/C++ commands are the usual ones unless the maintainers wrote theirs down. */
function withKnown(scan: ScanResult, p: Project): Project {
  const known = knownCommands(scan, p.dir);
  return known
    ? {
      ...p,
      ...(known.install ? { install: known.install } : {}),
      test: known.test,
      testFrom: known.from,
    }
    : p;
}

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
    test: scan.files.some((f) => within(dir, f.path) && f.path.endsWith("_test.go"))
      ? "go test ./..."
      : undefined,
    testFramework: "go test",
    lockfile: exists(scan, inDir(dir, "go.sum")) ? "go.sum" : undefined,
  }),
  // A Go workspace: its modules built and tested together from its folder.
  "go.work": (dir, scan, manifest) => {
    const gowork = scan.keyFiles[manifest] ?? "";
    const uses = goWorkUses(gowork);
    const patterns = uses.map((u) => u === "" ? "./..." : `./${u}/...`).join(" ");
    const hasTests = scan.files.some((f) =>
      f.path.endsWith("_test.go") &&
      uses.some((u) => f.path.startsWith(inDir(dir, u === "" ? "" : `${u}/`)))
    );
    return {
      type: "go",
      dir,
      manifest,
      ...(goVersion(gowork)
        ? { runtimeVersion: goVersion(gowork), runtimeVersionFrom: "go.work" }
        : {}),
      build: `go build ${patterns}`,
      test: hasTests ? `go test ${patterns}` : undefined,
      testFramework: "go test",
      members: uses.map((u) => inDir(dir, u)),
    };
  },
  "Cargo.toml": (dir, scan, manifest) => {
    // A workspace is built and tested as one, with its one lock file.
    const cargo = scan.keyFiles[manifest] ?? "";
    const workspace = /^\[workspace\]/m.test(cargo);
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
      ...rustVersions(scan, dir, cargo),
    };
  },
  "deno.json": deno,
  "deno.jsonc": deno,
  "pom.xml": (dir, scan, manifest) => {
    // The project's own wrapper pins its Maven version.
    const mvn = exists(scan, inDir(dir, "mvnw")) ? "./mvnw" : "mvn";
    const pom = scan.keyFiles[manifest] ?? "";
    // A parent's modules are built and tested by its one job (the reactor).
    const modules = [...pom.matchAll(/<module>\s*([^<]+?)\s*<\/module>/g)].map((m) =>
      inDir(dir, m[1].replace(/\/$/, ""))
    );
    return {
      type: "java-maven",
      dir,
      manifest,
      build: `${mvn} -B package -DskipTests`,
      test: `${mvn} -B test`,
      testFramework: "junit",
      ...javaVersion(pom, "pom.xml"),
      ...(modules.length ? { members: modules } : {}),
    };
  },
  "build.gradle": gradle,
  "build.gradle.kts": gradle,
  "settings.gradle": gradle,
  "settings.gradle.kts": gradle,
  "Gemfile": (dir, scan, manifest) =>
    withKnown(scan, {
      type: "ruby",
      dir,
      manifest,
      install: "bundle install",
      test: "bundle exec rake test",
    }),
  "composer.json": (dir, scan, manifest) =>
    withKnown(scan, {
      type: "php",
      dir,
      manifest,
      install: "composer install",
      test: "vendor/bin/phpunit",
    }),
  "CMakeLists.txt": (dir, scan, manifest) =>
    withKnown(scan, {
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
  const family = (p: Project) => p.type === "typescript" ? "node" : p.type;
  const under = (root: Project, p: Project) => root.dir === "." || p.dir.startsWith(`${root.dir}/`);
  // One job per workspace: a .NET solution, a Cargo workspace, a Gradle build with its settings
  // file and a go.work take in every project of theirs below them; Node workspaces and Maven
  // parents their declared members.
  const roots = projects.filter((p) =>
    (p.type === "dotnet" && /\.slnx?$/.test(p.manifest)) ||
    (p.type === "rust" && p.test?.includes("--workspace")) ||
    (p.type === "java-gradle" && /settings\.gradle(\.kts)?$/.test(p.manifest)) ||
    (p.type === "go" && p.manifest.endsWith("go.work"))
  );
  // A member's own folder and everything in it (templates, fixtures) belong to the workspace.
  const folded = (p: Project) =>
    projects.some((r) =>
      r !== p && family(r) === family(p) && (r.members ?? []).some((m) => within(m, p.dir))
    ) ||
    roots.some((r) => r !== p && family(r) === family(p) && under(r, p)) ||
    // One Gradle project per folder (build.gradle beside settings.gradle).
    projects.some((q) => q !== p && q.type === p.type && q.dir === p.dir && roots.includes(q));
  const kept = projects.filter((p) => !folded(p));
  // A project with nothing to build or test, or one that is a test's data, gets no job: the
  // report says so.
  const why = (p: Project) =>
    TEST_DATA.test(p.dir)
      ? "test data (in a fixtures, testdata or __tests__ folder)"
      : !p.build && !p.test
      ? "nothing to build or test: no build or test command was found"
      : undefined;
  const skipped: SkippedProject[] = kept.filter(why).map((p) => ({
    type: p.type,
    dir: p.dir,
    why: why(p)!,
  }));
  projects.splice(0, projects.length, ...kept.filter((p) => !why(p)));
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
    ...(skipped.length ? { skipped } : {}),
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
