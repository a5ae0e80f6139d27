import { defineAgent } from "../tasks/define_agent.ts";
import type { Finding, RepairStep } from "../tasks/repo_facts.ts";
import { TASK_KINDS } from "../tasks/task_kinds.ts";

const STEPS: Record<string, Omit<RepairStep, "id" | "rule" | "dependsOn">> = {
  "secret": {
    action: "remove the secret from the repository and its history, and rotate it",
    risk: "critical",
    automated: false,
    rollback: "none needed: rotation only invalidates the old credential",
  },
  "secret-file": {
    action: "remove the committed environment file, add it to .gitignore, rotate what it held",
    risk: "high",
    automated: false,
    rollback: "restore the file from history",
  },
  "no-ci": {
    action: "add CI for GitHub Actions, GitLab CI and Azure Pipelines",
    risk: "low",
    automated: true,
    rollback: "delete the generated CI files",
  },
  "no-readme": {
    action: "add a README with set-up and test instructions",
    risk: "low",
    automated: true,
    rollback: "delete README.md",
  },
  "no-license": {
    action: "choose a license and add LICENSE (a person must pick it)",
    risk: "low",
    automated: false,
    rollback: "delete LICENSE",
  },
  "no-tests": {
    action: "add a test suite and a test command",
    risk: "medium",
    automated: false,
    rollback: "delete the tests",
  },
  "missing-lockfile": {
    action: "generate and commit a lock file with the project's package manager",
    risk: "medium",
    automated: false,
    rollback: "delete the lock file",
  },
  "gitignore-missing": {
    action: "add the build and dependency folders to .gitignore",
    risk: "low",
    automated: true,
    rollback: "remove the appended lines",
  },
  "large-binary": {
    action: "move large binaries to Git LFS or an artifact store",
    risk: "medium",
    automated: false,
    rollback: "restore the files",
  },
};

export function planRepairs(findings: Finding[]): RepairStep[] {
  const steps: RepairStep[] = [];
  for (const rule of new Set(findings.map((f) => f.rule))) {
    const step = STEPS[rule];
    if (!step) continue;
    steps.push({ id: `fix-${rule}`, rule, dependsOn: [], ...step });
  }
  // CI is generated only for projects troupe knows; where there is none, a person writes it.
  const ci = steps.find((s) => s.rule === "no-ci");
  if (ci && findings.some((f) => f.rule === "unknown-project")) {
    Object.assign(ci, {
      action: "add CI by hand: troupe generates CI only for the ecosystems it reads, and found " +
        "no project of theirs with a build or test command here",
      automated: false,
      rollback: "delete the CI files",
    });
  }
  // Secrets first: nothing else should be published while a credential is exposed.
  const secretSteps = steps.filter((s) => s.rule.startsWith("secret")).map((s) => s.id);
  for (const s of steps) if (!s.rule.startsWith("secret")) s.dependsOn = secretSteps;
  // The changelog records whatever was changed; it is the rollback point of the whole patch.
  if (!steps.some((s) => s.automated)) return steps;
  steps.push({
    id: "changelog",
    rule: "changelog",
    action: "record the changes in CHANGELOG.md",
    risk: "low",
    automated: true,
    dependsOn: steps.filter((s) => s.automated).map((s) => s.id),
    rollback: "revert the patch as a whole",
  });
  return steps;
}

export default defineAgent(import.meta.url, TASK_KINDS, {
  plan_repairs: (_inputs, deps) => planRepairs(deps.assess as Finding[]),
});
