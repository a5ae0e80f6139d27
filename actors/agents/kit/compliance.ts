import { join } from "node:path";
import type { CompliancePack } from "../../../policies/compliance_pack.ts";
import { compilePattern } from "../../../policies/pattern.ts";
import { globs } from "../../../policies/globs.ts";
import type { Finding, ScanResult } from "../../tasks/repo_facts.ts";
import { mask } from "./secret_patterns.ts";
import { readText } from "./repo_reads.ts";

const MB = 1024 * 1024;

/**
 * Checks a repository against compliance packs: each violated control becomes a finding named
 * `compliance` with the pack and control in its message and the evidence that violates it.
 */
export async function checkCompliance(
  scan: ScanResult,
  findings: Finding[],
  packs: CompliancePack[],
): Promise<Finding[]> {
  const out: Finding[] = [];
  const texts = new Map<string, string | null>();
  const read = async (path: string) => {
    if (!texts.has(path)) {
      texts.set(path, await readText(join(scan.root, path)));
    }
    return texts.get(path)!;
  };
  const candidates = (files: string | string[]) => {
    const match = globs(files);
    return scan.files.filter((f) => !f.binary && f.size <= MB && match(f.path));
  };
  for (const pack of packs) {
    for (const control of pack.controls) {
      const violation = (message: string, where: Partial<Finding> = {}) =>
        out.push({
          rule: "compliance",
          severity: control.severity,
          message: `${pack.framework} ${control.id}: ${control.title}: ${message}`,
          control: `${pack.name}/${control.id}`,
          ...where,
        });
      const check = control.check;
      if (check.kind === "finding") {
        for (const f of findings.filter((f) => check.rules.includes(f.rule))) {
          violation(f.message, { path: f.path, line: f.line, evidence: f.evidence });
        }
      } else if (check.kind === "pattern") {
        const pattern = compilePattern(check.pattern);
        const unless = check.unless ? compilePattern(check.unless) : undefined;
        const except = check.except ? compilePattern(check.except) : undefined;
        const hitIn = (line: string) => pattern.matches(line).find((m) => !except?.test(m));
        for (const f of candidates(check.files)) {
          const text = await read(f.path);
          if (text === null || (unless && unless.test(text))) continue;
          const lines = text.split("\n");
          const i = lines.findIndex((l) => hitIn(l) !== undefined);
          if (i >= 0) {
            const hit = hitIn(lines[i])!;
            violation(`found in ${f.path}`, {
              path: f.path,
              line: i + 1,
              evidence: mask(hit),
            });
          }
        }
      } else {
        const pattern = compilePattern(check.pattern);
        let found = false;
        for (const f of candidates(check.files)) {
          const text = await read(f.path);
          if (text !== null && pattern.test(text)) {
            found = true;
            break;
          }
        }
        if (!found) violation("no evidence found in the repository");
      }
    }
  }
  return out;
}
