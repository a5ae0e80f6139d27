import { join } from "node:path";
import { defineAgent } from "../tasks/define_agent.ts";
import { readText } from "./kit/repo_reads.ts";
import type { Detection, Finding, ScanResult } from "../tasks/repo_facts.ts";
import { mask, PLACEHOLDER, secretOn } from "./kit/secret_patterns.ts";
import { checkCompliance } from "./kit/compliance.ts";
import type { CompliancePack } from "../../policies/compliance_pack.ts";
import { TASK_KINDS } from "../tasks/task_kinds.ts";

/** Findings with severity and evidence. Reads file contents (for secrets) and nothing else. */

const MB = 1024 * 1024;
/** Test files and folders, by the usual names. */
const TEST_PATH =
  /(^|\/)(tests?|spec|__tests__|runtime-tests|testdata)\/|[._-](test|spec)\.[a-z]+$|_test\.(go|py)$|(^|\/)test_[^/]+\.py$/;

async function secrets(scan: ScanResult): Promise<Finding[]> {
  const out: Finding[] = [];
  for (const f of scan.files) {
    if (f.binary || f.size > MB) continue;
    const text = await readText(join(scan.root, f.path));
    if (text === null) continue;
    const lines = text.split("\n");
    // An environment file is judged by what it holds: `PORT=3000` is no secret.
    const envFile = /(^|\/)\.env(\.[^/]*)?$/.test(f.path) &&
      !/\.(example|sample|template|dist)$/.test(f.path);
    const held = envFile ? lines.map(envCredential).find(Boolean) : undefined;
    if (held) {
      out.push({
        rule: "secret-file",
        severity: "high",
        path: f.path,
        message: `an environment file with credentials is committed (${held})`,
      });
    }
    const testFile = TEST_PATH.test(f.path);
    lines.forEach((line, i) => {
      const found = secretOn(line, lines[i + 1]);
      if (!found) return;
      // A password in a test or a doc comment is an example: a generic credential counts only
      // in code and configuration (known key formats count everywhere).
      if (found.name === "hard-coded credential" && (testFile || /^\s*(\*|\/\/|#)/.test(line))) {
        return;
      }
      // A key beside the tests is most often a fixture (a TLS test server's): public now, so it
      // must never be trusted outside them; worth saying, not a leak to rotate tonight.
      const fixture = testFile && found.name === "private key";
      out.push({
        rule: "secret",
        severity: fixture ? "medium" : "critical",
        path: f.path,
        line: i + 1,
        evidence: mask(found.match),
        message: fixture
          ? "private key committed in test data: if it is a test fixture, it is public now; " +
            "trust it nowhere outside the tests"
          : `${found.name} committed to the repository`,
      });
    });
  }
  return out;
}

/** The setting's name when an environment file's line holds a credential, not a placeholder. */
function envCredential(line: string): string | undefined {
  const m = line.match(/^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*["']?([^"'#\s]*)/);
  if (!m || m[2] === "" || PLACEHOLDER.test(m[2])) return undefined;
  const named = /pass|secret|token|api_?key|private|credential|auth/i.test(m[1]);
  const inUrl = /^[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:[^/\s@]+@/i.test(m[2]); // user:password@host
  return named || inUrl ? m[1] : undefined;
}

/** A licence file (also dual licences, REUSE's LICENSES/), or a licence in a manifest. */
function licensed(scan: ScanResult): boolean {
  const file = scan.files.some((f) =>
    /^(licen[cs]e|copying|copyright|unlicen[cs]e)([.-][A-Za-z0-9.-]+)?$/i.test(f.path) ||
    /^LICENSES\/[^/]+$/.test(f.path)
  );
  if (file) return true;
  const manifests = Object.entries(scan.keyFiles).filter(([p]) => !p.includes("/"));
  return manifests.some(([p, text]) =>
    /^(package|composer)\.json$/.test(p)
      ? /"licen[cs]es?"\s*:\s*["\[{]/.test(text)
      : /^(Cargo|pyproject)\.toml$/.test(p)
      ? /^\s*licen[cs]e(-file|-files)?\s*=/m.test(text)
      : p === "mix.exs"
      ? /licenses:\s*\[\s*"/.test(text)
      : /\.gemspec$/.test(p)
      ? /\.licen[cs]es?\s*=/.test(text)
      : /^setup\.(py|cfg)$/.test(p)
      ? /licen[cs]e\s*[=:]/.test(text)
      : false
  );
}

/**
 * A library is published without a lock file (its users resolve its dependencies): a Rust crate
 * with no binary, a Python package that declares a build, an npm package that is published
 * (not private, with `exports` or `files`) and does not start.
 */
function library(scan: ScanResult, p: Detection["projects"][number]): boolean {
  const at = (name: string) => p.dir === "." ? name : `${p.dir}/${name}`;
  if (p.type === "rust") {
    const cargo = scan.keyFiles[p.manifest] ?? "";
    return !/^\[\[bin\]\]/m.test(cargo) && !/^\[workspace\]/m.test(cargo) &&
      !scan.files.some((f) => f.path === at("src/main.rs") || f.path.startsWith(at("src/bin/")));
  }
  if (p.type === "node" || p.type === "typescript") {
    try {
      const pkg = JSON.parse(scan.keyFiles[p.manifest] ?? "{}");
      return pkg.private !== true && !!(pkg.exports || pkg.files) && !pkg.scripts?.start;
    } catch {
      return false; // an unreadable package.json: not known to be a library
    }
  }
  if (p.type === "python") {
    return /^\[build-system\]/m.test(scan.keyFiles[at("pyproject.toml")] ?? "") ||
      scan.files.some((f) => f.path === at("setup.py"));
  }
  return false;
}

export async function assess(
  scan: ScanResult,
  detection: Detection,
  packs: CompliancePack[] = [],
): Promise<Finding[]> {
  const findings: Finding[] = [];
  const has = (re: RegExp) => scan.files.some((f) => re.test(f.path));
  if (detection.existingCi.length === 0) {
    findings.push({
      rule: "no-ci",
      severity: "high",
      message: "no CI configuration (GitHub Actions, GitLab CI, Azure Pipelines, …)",
    });
  }
  const testFiles = has(
    /(^|\/)(tests?|__tests__|spec)\/|[._-](test|spec)\.[a-z]+$|_test\.(go|py)$|(^|\/)test_[^/]+\.py$/,
  );
  if (!detection.projects.some((p) => p.test) && !testFiles) {
    findings.push({
      rule: "no-tests",
      severity: "medium",
      message: "no tests and no test command were found",
    });
  }
  if (!has(/^readme(\.[a-z]+)?$/i)) {
    findings.push({ rule: "no-readme", severity: "medium", message: "no README at the top level" });
  }
  if (!licensed(scan)) {
    findings.push({ rule: "no-license", severity: "low", message: "no LICENSE file" });
  }
  if (detection.projects.length === 0) {
    findings.push({
      rule: "unknown-project",
      severity: "info",
      message: detection.skipped?.length
        ? "no project with a build or test command (see the projects without a CI job)"
        : "no project manifest troupe reads (package.json, pyproject.toml, go.mod, Cargo.toml, " +
          "mix.exs, Gemfile, composer.json, CMakeLists.txt, …)",
    });
  }
  for (const f of scan.files) {
    if ((f.binary && f.size > MB) || f.size > 10 * MB) {
      findings.push({
        rule: "large-binary",
        severity: "medium",
        path: f.path,
        message: `${(f.size / MB).toFixed(1)} MB ${
          f.binary ? "binary " : ""
        }file committed; use Git LFS or an artifact store`,
      });
    }
  }
  const gitignore = scan.keyFiles[".gitignore"] ?? "";
  // `*.pyc` keeps `__pycache__/` out as well: the folders hold nothing else.
  const SAME: Record<string, string[]> = { __pycache__: ["*.pyc", "*.py[cod]", "*.py[co]"] };
  const ignores = (entry: string) =>
    gitignore.split("\n").some((l) => {
      const line = l.trim().replace(/^\/|\/$/g, "");
      return line === entry || (SAME[entry] ?? []).includes(line);
    });
  for (const p of detection.projects) {
    const needsLock = ["node", "typescript", "rust", "python"].includes(p.type);
    if (needsLock && !p.lockfile && !library(scan, p)) {
      findings.push({
        rule: "missing-lockfile",
        severity: "medium",
        path: p.manifest,
        message: `${p.type} project without a lock file: builds are not reproducible`,
      });
    }
    const expected: Record<string, string> = {
      node: "node_modules",
      typescript: "node_modules",
      python: "__pycache__",
      rust: "target",
    };
    const entry = expected[p.type];
    if (entry && !ignores(entry)) {
      findings.push({
        rule: "gitignore-missing",
        severity: "low",
        path: ".gitignore",
        message: `.gitignore does not list ${entry}/`,
      });
    }
  }
  findings.push(...await secrets(scan));
  findings.push(...await checkCompliance(scan, findings, packs));
  const order = ["critical", "high", "medium", "low", "info"];
  return findings.sort((a, b) => order.indexOf(a.severity) - order.indexOf(b.severity));
}

export default defineAgent(import.meta.url, TASK_KINDS, {
  assess: (inputs, deps) =>
    assess(
      deps.scan as ScanResult,
      deps.detect as Detection,
      inputs.packs,
    ),
});
