import { defineAgent } from "../tasks/define_agent.ts";
import { ciFiles } from "./kit/ci_config.ts";
import type { RepairStep } from "../tasks/repo_facts.ts";
import type { Detection, GeneratedFile } from "../tasks/repo_facts.ts";
import { TASK_KINDS } from "../tasks/task_kinds.ts";

/** Delivery: CI configuration for every platform, a Dockerfile where it fits, .gitignore lines. */
export function deliver(detection: Detection, plan: RepairStep[]): GeneratedFile[] {
  const wants = (rule: string) => plan.some((s) => s.rule === rule && s.automated);
  const files = wants("no-ci") ? ciFiles(detection) : [];
  if (wants("gitignore-missing")) {
    const entries = new Set<string>();
    for (const p of detection.projects) {
      if (p.type === "node" || p.type === "typescript") entries.add("node_modules/");
      if (p.type === "python") entries.add("__pycache__/").add("*.pyc").add(".venv/");
      if (p.type === "rust") entries.add("target/");
    }
    files.push({
      path: ".gitignore",
      content: [...entries].join("\n") + "\n",
      mode: "append",
      reason: "gitignore-missing",
    });
  }
  return files;
}

export default defineAgent(import.meta.url, TASK_KINDS, {
  generate_ci: (_inputs, deps) =>
    deliver(deps.detect as Detection, deps.plan_repairs as RepairStep[]),
});
