import { knownCommands } from "../kit/other_ci.ts";
import type { Project, ScanResult } from "../../tasks/repo_facts.ts";
import type { Detector } from "./detector_type.ts";
import { exists, inDir, within } from "./paths.ts";

/**
 * Ruby, PHP and C/C++ commands are the usual ones unless the maintainers wrote theirs down. A
 * CMake project that defines tests is tested by CTest, not by a Makefile beside it (another
 * build of the same code).
 */
function withKnown(scan: ScanResult, p: Project): Project {
  const ctest = p.type === "cmake" &&
    Object.entries(scan.keyFiles).some(([path, text]) =>
      path.endsWith("CMakeLists.txt") && within(p.dir, path) &&
      /\b(add_test|enable_testing)\s*\(|include\s*\(\s*CTest\b/i.test(text)
    );
  const known = knownCommands(scan, p.dir, { makefile: !ctest });
  return known
    ? {
      ...p,
      ...(known.install ? { install: known.install } : {}),
      test: known.test,
      testFrom: known.from,
    }
    : p;
}

/** The newer of two `major.minor` versions: a requirement's minimum is raised to a current one. */
const newest = (a: string, b: string) => {
  const [x, y] = [a, b].map((v) => v.split(".").map(Number));
  return x[0] > y[0] || (x[0] === y[0] && (x[1] ?? 0) >= (y[1] ?? 0)) ? a : b;
};

/** The PHP releases a `require.php` constraint can pick from, oldest first. */
const PHP_RELEASES = ["7.4", "8.0", "8.1", "8.2", "8.3", "8.4", "8.5"];

/** The releases a composer constraint (`^8.1`, `>=7.4`, `^7.4 || ^8.0`) allows. */
export function phpVersions(constraint: string): string[] {
  const alternatives = constraint.split("||").map((a) => a.trim());
  return PHP_RELEASES.filter((v) =>
    alternatives.some((a) => {
      const low = a.match(/(\d+)\.(\d+)/);
      if (!low) return false;
      const [major, minor] = [Number(low[1]), Number(low[2])];
      const [vMajor, vMinor] = v.split(".").map(Number);
      const atLeast = vMajor > major || (vMajor === major && vMinor >= minor);
      // `^8.1` and `~8.1` stay within 8; `>=` is open; `8.1.*` is that release only.
      if (/^[\^~]/.test(a)) return atLeast && vMajor === major;
      if (/^>=?/.test(a)) return atLeast;
      return vMajor === major && vMinor === minor;
    })
  );
}

function php(dir: string, scan: ScanResult, manifest: string): Project {
  let composer: { require?: Record<string, string>; scripts?: Record<string, unknown> } = {};
  try {
    composer = JSON.parse(scan.keyFiles[manifest] ?? "{}");
  } catch { /* an unreadable composer.json: the usual commands */ }
  const constraint = composer.require?.php;
  const versions = constraint ? phpVersions(constraint) : [];
  const lock = exists(scan, inDir(dir, "composer.lock"));
  return withKnown(scan, {
    type: "php",
    dir,
    manifest,
    install: "composer install --no-interaction --no-progress",
    test: composer.scripts?.test ? "composer test" : "vendor/bin/phpunit",
    testFramework: "phpunit",
    lockfile: lock ? "composer.lock" : undefined,
    ...(versions.length
      ? { runtimeVersion: versions[0], runtimeVersionFrom: "require.php in composer.json" }
      : {}),
    // A library without a lock file is installed by its users on every release it allows.
    ...(!lock && versions.length > 1 ? { matrix: versions } : {}),
  });
}

function ruby(dir: string, scan: ScanResult, manifest: string): Project {
  const pinned = (scan.keyFiles[inDir(dir, ".ruby-version")] ?? "").trim().replace(/^ruby-/, "");
  const gemspec = Object.entries(scan.keyFiles).find(([p]) =>
    p.endsWith(".gemspec") && within(dir, p) && !p.slice(dir === "." ? 0 : dir.length + 1)
      .includes("/")
  )?.[1];
  const required = gemspec?.match(/required_ruby_version\s*=\s*["'][>=~ ]*(\d+\.\d+)/)?.[1];
  const gemfile = scan.keyFiles[manifest] ?? "";
  const rspec = /['"]rspec/.test(gemfile + (gemspec ?? "")) &&
    scan.files.some((f) => f.path.startsWith(inDir(dir, "spec/")));
  // A pinned Ruby as pinned; a gemspec's minimum (`>= 2.7`) is met by a current Ruby.
  const version = pinned || (required && newest(required, "3.3"));
  return withKnown(scan, {
    type: "ruby",
    dir,
    manifest,
    install: "bundle install",
    test: rspec ? "bundle exec rspec" : "bundle exec rake test",
    testFramework: rspec ? "rspec" : "minitest",
    lockfile: exists(scan, inDir(dir, "Gemfile.lock")) ? "Gemfile.lock" : undefined,
    ...(version
      ? {
        runtimeVersion: version,
        runtimeVersionFrom: pinned ? ".ruby-version" : `the gemspec asks for at least ${required}`,
      }
      : {}),
  });
}

function elixir(dir: string, scan: ScanResult, manifest: string): Project {
  const tools = scan.keyFiles[inDir(dir, ".tool-versions")] ?? scan.keyFiles[".tool-versions"] ??
    "";
  // `.tool-versions`: `elixir 1.16.2-otp-26` and `erlang 26.2.1`; else mix.exs's `elixir: "~> 1.15"`.
  const ex = tools.match(/^elixir\s+(\d+\.\d+(?:\.\d+)?)/m)?.[1];
  const otp = tools.match(/^erlang\s+(\d+(?:\.\d+)*)/m)?.[1] ??
    tools.match(/^elixir\s+\S+-otp-(\d+)/m)?.[1];
  const asked = (scan.keyFiles[manifest] ?? "").match(/elixir:\s*"[~>= ]*(\d+\.\d+)/)?.[1];
  // `.tool-versions` pins; mix.exs's `~> 1.4` is a minimum, met by a current Elixir (whose OTP
  // would not run an old one).
  const version = ex ?? (asked && newest(asked, "1.17"));
  return {
    type: "elixir",
    dir,
    manifest,
    install: "mix deps.get",
    build: "mix compile",
    test: scan.files.some((f) => f.path.startsWith(inDir(dir, "test/"))) ? "mix test" : undefined,
    testFramework: "ExUnit",
    lockfile: exists(scan, inDir(dir, "mix.lock")) ? "mix.lock" : undefined,
    ...(version
      ? {
        runtimeVersion: otp ? `${version}/${otp}` : version,
        runtimeVersionFrom: ex ? ".tool-versions" : `mix.exs asks for ~> ${asked}`,
      }
      : {}),
  };
}

/** Ruby, PHP, Elixir and CMake projects. */
export const usualManifests: Record<string, Detector> = {
  "Gemfile": ruby,
  "composer.json": php,
  "mix.exs": elixir,
  // Configured from its folder with testing on, as CTest expects; ctest says what failed.
  "CMakeLists.txt": (dir, scan, manifest) => {
    const members = cmakeSubdirectories(scan, dir);
    return withKnown(scan, {
      type: "cmake",
      dir,
      manifest,
      build: "cmake -S . -B build -DBUILD_TESTING=ON && cmake --build build",
      test: "ctest --test-dir build --output-on-failure",
      testFramework: "ctest",
      ...(members.length ? { members } : {}),
    });
  },
};

/** The folders a CMakeLists.txt pulls in with `add_subdirectory`: built with it, not alone. */
export function cmakeSubdirectories(scan: ScanResult, dir: string): string[] {
  const text = (scan.keyFiles[inDir(dir, "CMakeLists.txt")] ?? "").replace(/#.*$/gm, "");
  return [...text.matchAll(/add_subdirectory\s*\(\s*"?([^\s)"$]+)/gi)].map((m) =>
    inDir(dir, m[1].replace(/^\.\//, "").replace(/\/$/, ""))
  );
}
