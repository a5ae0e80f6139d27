import { join } from "node:path";
import { defineAgent } from "../tasks/define_agent.ts";
import type { Detection, Finding, ScanResult } from "../tasks/repo_facts.ts";
import { mask, secretOn } from "./kit/secret_patterns.ts";
import { checkCompliance } from "./kit/compliance.ts";
import type { CompliancePack } from "../../policies/compliance_pack.ts";
import { TASK_KINDS } from "../tasks/task_kinds.ts";

/** Findings with severity and evidence. Reads file contents (for secrets) and nothing else. */

const MB = 1024 * 1024;

async function secrets(scan: ScanResult): Promise<Finding[]> {
  const out: Finding[] = [];
  for (const f of scan.files) {
    if (f.binary || f.size > MB) continue;
    if (/(^|\/)\.env(\.[^/]*)?$/.test(f.path) && !/\.(example|sample|template)$/.test(f.path)) {
      out.push({
        rule: "secret-file",
        severity: "high",
        path: f.path,
        message: "an environment file with settings is committed",
      });
    }
    let text: string;
    try {
      text = await Deno.readTextFile(join(scan.root, f.path));
    } catch {
      continue;
    }
    const lines = text.split("\n");
    lines.forEach((line, i) => {
      const found = secretOn(line, lines[i + 1]);
      if (!found) return;
      out.push({
        rule: "secret",
        severity: "critical",
        path: f.path,
        line: i + 1,
        evidence: mask(found.match),
        message: `${found.name} committed to the repository`,
      });
    });
  }
  return out;
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
  if (!has(/^(licen[cs]e|copying)(\.[a-z]+)?$/i)) {
    findings.push({ rule: "no-license", severity: "low", message: "no LICENSE file" });
  }
  if (detection.projects.length === 0) {
    findings.push({
      rule: "unknown-project",
      severity: "info",
      message: "no known project manifest (package.json, pyproject.toml, go.mod, Cargo.toml, …)",
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
  const ignores = (entry: string) =>
    gitignore.split("\n").some((l) => l.trim().replace(/^\/|\/$/g, "") === entry);
  for (const p of detection.projects) {
    const needsLock = ["node", "typescript", "rust", "python"].includes(p.type);
    if (needsLock && !p.lockfile) {
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
