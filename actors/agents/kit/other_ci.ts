import { parse } from "yaml";
import type { ScanResult } from "../../tasks/repo_facts.ts";

/** Commands a repository's maintainers already run somewhere, and where they were read. */
export interface KnownCommands {
  install?: string;
  test: string;
  from: string;
}

const asList = (v: unknown): string[] =>
  typeof v === "string" ? [v] : Array.isArray(v) ? v.filter((x) => typeof x === "string") : [];

/** Lines a Linux runner can run: no Travis or AppVeyor variables, no PowerShell. */
const portable = (lines: string[]) =>
  lines.filter((l) => !/\$\{?(TRAVIS|APPVEYOR)_|^\s*(ps|pwsh)\s*:/i.test(l));

function yamlAt(scan: ScanResult, path: string): Record<string, unknown> | undefined {
  const text = scan.keyFiles[path];
  if (!text) return undefined;
  try {
    const doc = parse(text);
    return doc && typeof doc === "object" ? doc as Record<string, unknown> : undefined;
  } catch {
    return undefined; // an unreadable file is no evidence
  }
}

/** Install and test lines as one command each, joined with `&&`; none without a test line. */
function joined(install: string[], test: string[], from: string): KnownCommands | undefined {
  if (test.length === 0) return undefined;
  return {
    ...(install.length ? { install: install.join(" && ") } : {}),
    test: test.join(" && "),
    from,
  };
}

/** `.travis.yml`: its `install` and `script` lists. */
function travis(scan: ScanResult): KnownCommands | undefined {
  const doc = yamlAt(scan, ".travis.yml");
  return joined(portable(asList(doc?.install)), portable(asList(doc?.script)), ".travis.yml");
}

/** `appveyor.yml`: `install` and `test_script`, plain or `sh:` entries (its Linux images). */
function appveyor(scan: ScanResult): KnownCommands | undefined {
  const doc = yamlAt(scan, "appveyor.yml") ?? yamlAt(scan, ".appveyor.yml");
  const lines = (v: unknown) =>
    (Array.isArray(v) ? v : []).flatMap((x) =>
      typeof x === "string" ? [x] : typeof x?.sh === "string" ? [x.sh] : []
    );
  return joined(portable(lines(doc?.install)), portable(lines(doc?.test_script)), "appveyor.yml");
}

/** `.circleci/config.yml`: the `run` steps of its first job that runs tests. */
function circleci(scan: ScanResult): KnownCommands | undefined {
  const jobs = yamlAt(scan, ".circleci/config.yml")?.jobs as Record<string, unknown> | undefined;
  for (const job of Object.values(jobs ?? {})) {
    const steps = (job as { steps?: unknown[] })?.steps ?? [];
    const runs = steps.flatMap((s) => {
      const run = (s as { run?: unknown })?.run;
      const command = typeof run === "string" ? run : (run as { command?: unknown })?.command;
      return typeof command === "string" ? [command.trim()] : [];
    });
    const test = runs.findIndex((r) => /\btest/i.test(r));
    if (test >= 0) return joined(runs.slice(0, test), runs.slice(test), ".circleci/config.yml");
  }
  return undefined;
}

/**
 * A `test` target in the Makefile of `dir`, else `check`, else `tests`, wherever in the file:
 * `tests` often only compiles them, so it is the last choice.
 */
function makefile(scan: ScanResult, dir: string): KnownCommands | undefined {
  const text = scan.keyFiles[dir === "." ? "Makefile" : `${dir}/Makefile`];
  const target = ["test", "check", "tests"].find((t) =>
    new RegExp(`^${t}\\s*:(?!=)`, "m").test(text ?? "")
  );
  return target ? { test: `make ${target}`, from: "Makefile" } : undefined;
}

/**
 * The test commands a repository's maintainers already wrote down for `dir`: another CI system's
 * (Travis, AppVeyor, CircleCI; at the top level only), else a Makefile target. Used where a
 * project's own manifest names no test command and the detector would otherwise guess.
 */
export function knownCommands(
  scan: ScanResult,
  dir: string,
  o: { makefile?: boolean } = {},
): KnownCommands | undefined {
  return (dir === "." ? travis(scan) ?? appveyor(scan) ?? circleci(scan) : undefined) ??
    (o.makefile === false ? undefined : makefile(scan, dir));
}
