import { defineAgent } from "../tasks/define_agent.ts";
import type { RepairStep } from "../tasks/repo_facts.ts";
import type { Detection, GeneratedFile, ScanResult } from "../tasks/repo_facts.ts";
import { TASK_KINDS } from "../tasks/task_kinds.ts";

/** Docs: README set-up and test sections (with a CI badge) and a CHANGELOG entry. */
export function writeDocs(
  scan: ScanResult,
  detection: Detection,
  plan: RepairStep[],
  date: string,
): GeneratedFile[] {
  const files: GeneratedFile[] = [];
  const readme = scan.files.find((f) => /^readme(\.md)?$/i.test(f.path));
  const text = readme ? scan.keyFiles[readme.path] ?? "" : "";
  const lines = (key: "install" | "build" | "test") =>
    detection.projects.filter((p) => p[key]).map((p) => `(cd ${p.dir} && ${p[key]})`);
  const setup = [...lines("install"), ...lines("build")];
  const tests = lines("test");
  const section = [
    "## Development",
    "",
    "![CI](../../actions/workflows/ci.yml/badge.svg)",
    "",
    ...(setup.length ? ["Set up:", "", "```sh", ...setup, "```", ""] : []),
    ...(tests.length ? ["Run the tests:", "", "```sh", ...tests, "```", ""] : []),
  ].join("\n");
  if (!readme) {
    const name = scan.root.split("/").filter(Boolean).pop() ?? "project";
    files.push({
      path: "README.md",
      content: `# ${name}\n\n${section}`,
      mode: "create",
      reason: "no-readme",
    });
  } else if (!/^##+\s*(development|getting started|setup|set-up|installation)/im.test(text)) {
    files.push({
      path: readme.path,
      content: `\n${section}`,
      mode: "append",
      reason: "readme has no set-up section",
    });
  }
  const changes = plan.filter((s) => s.automated && s.id !== "changelog").map((s) =>
    `- ${s.action}`
  );
  if (changes.length > 0) {
    const exists = scan.files.some((f) => f.path === "CHANGELOG.md");
    const entry = `## Unreleased (${date})\n\n${changes.join("\n")}\n`;
    files.push({
      path: "CHANGELOG.md",
      content: exists ? `\n${entry}` : `# Changelog\n\n${entry}`,
      mode: exists ? "append" : "create",
      reason: "changelog",
    });
  }
  return files;
}

export default defineAgent(import.meta.url, TASK_KINDS, {
  write_docs: (inputs, deps) =>
    writeDocs(
      deps.scan as ScanResult,
      deps.detect as Detection,
      deps.plan_repairs as RepairStep[],
      inputs.date ?? new Date().toISOString().slice(0, 10),
    ),
});
