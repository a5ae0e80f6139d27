import { knownCommands } from "../kit/other_ci.ts";
import type { Project, ScanResult } from "../../tasks/repo_facts.ts";
import { dirOf, exists, inDir, within } from "./paths.ts";

/** A Python project from pyproject.toml or setup.py. */
export function python(scan: ScanResult, manifest: string): Project {
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
      runner === "tox" ? `tox -e ${toxEnv(scan.keyFiles[inDir(dir, "tox.ini")] ?? "")}` : "nox",
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

/**
 * The tox environment that runs the tests under the job's own Python: `py`, with the factor
 * whose conditional command (`tests: pytest`) runs them when `[testenv]`'s commands are
 * factor-conditional (plain `tox -e py` would run none of them).
 */
export function toxEnv(toxIni: string): string {
  const testenv = toxIni.match(/^\[testenv\]\s*\n([\s\S]*?)(?=^\[|(?![\s\S]))/m)?.[1] ?? "";
  const commands = testenv.match(/^commands\s*=([^\n]*\n(?:[ \t]+[^\n]*\n?)*)/m)?.[1] ?? "";
  const lines = commands.split("\n").map((l) => l.trim()).filter(Boolean);
  const conditional = lines.map((l) => l.match(/^([A-Za-z0-9_,{}.-]+):\s+(.+)$/))
    .filter((m): m is RegExpMatchArray => m !== null);
  if (conditional.length === 0 || conditional.length < lines.length) return "py";
  const tests = conditional.find((m) => /pytest|unittest|nose|trial|stestr|\btest/.test(m[2]));
  const factor = tests?.[1].split(",")[0].replace(/[{}]/g, "");
  return factor ? `py-${factor}` : "py";
}
