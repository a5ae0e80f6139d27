import picomatch from "picomatch";
import { parse } from "yaml";
import type { Project, ScanResult } from "../../tasks/repo_facts.ts";
import { dirOf, exists, inDir } from "./paths.ts";

/** A Node or TypeScript project from its package.json. */
export function node(scan: ScanResult, manifest: string): Project {
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
    // `bun test` is bun's own runner, not the package's script: `bun run test` is the script.
    test: hasTest
      ? pm === "bun" ? "bun run test" : `${pm} test`
      : members.length && anyScript(scan, members, "test")
      ? inAll("test")
      : undefined,
    ...(members.length ? { members } : {}),
    ...(pkg.scripts?.start ? { start: pm === "bun" ? "bun run start" : `${pm} start` } : {}),
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
