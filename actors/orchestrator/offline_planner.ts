import type { CompliancePack } from "../../policies/compliance_pack.ts";
import type { TaskPacketInput } from "./task_packet.ts";

/** The goal of a run that is given none. */
export const DEFAULT_GOAL = "assess this repository and propose hardening";

export interface RunOptions {
  repo: string;
  runTests: boolean;
  date: string;
  testTimeoutMs?: number;
  /** Where repository code runs: a scratch folder for copies of the repository. */
  scratch?: string;
  /** Run repository code without the sandbox (the user's explicit choice). */
  unsandboxed?: boolean;
  /** Run the proposed CI jobs' steps here before proposing them. */
  verifyCi?: boolean;
  /** Let install steps reach the network when CI is verified. */
  allowInstallNetwork?: boolean;
  /** Compliance packs the assessor checks the repository against. */
  packs?: CompliancePack[];
}

/**
 * The deterministic planner: maps a goal to the task DAG of the repo-ops team with rules, no
 * LLM. A goal that asks only to assess, audit or report leaves out the generated changes.
 */
export function planRun(goal: string, o: RunOptions): TaskPacketInput[] {
  const assessOnly = /\b(assess|audit|report|scan)\b/i.test(goal) &&
    !/\b(harden|fix|repair|ci|propose|generate|docs?)\b/i.test(goal);
  const task = (
    id: string,
    capability: string,
    dependsOn: string[],
    extra: Partial<TaskPacketInput> = {},
  ): TaskPacketInput => ({ id, kind: id, capability, dependsOn, idempotencyKey: id, ...extra });
  const plan: TaskPacketInput[] = [
    task("scan", "repo.scan", [], { inputs: { repo: o.repo } }),
    task("detect", "repo.detect", ["scan"]),
    task("assess", "repo.assess", ["scan", "detect"], { inputs: { packs: o.packs ?? [] } }),
    task("plan_repairs", "plan.repairs", ["assess"]),
  ];
  if (!assessOnly) {
    plan.push(
      task("generate_ci", "ci.generate", ["detect", "plan_repairs"]),
      task("write_docs", "docs.write", ["scan", "detect", "plan_repairs"], {
        inputs: { date: o.date },
      }),
      task("review", "patch.review", [
        "scan",
        "assess",
        "generate_ci",
        "write_docs",
        ...(o.verifyCi ? ["verify_ci"] : []),
      ]),
    );
    if (o.verifyCi) {
      plan.push(task("verify_ci", "repo.test", ["scan", "detect", "generate_ci"], {
        inputs: {
          repo: o.repo,
          ...(o.scratch ? { scratch: o.scratch } : {}),
          unsandboxed: o.unsandboxed ?? false,
          allowInstallNetwork: o.allowInstallNetwork ?? false,
        },
        timeoutMs: 3_600_000,
        retry: { maxAttempts: 1 },
        risk: "medium",
      }));
    }
  }
  if (o.runTests) {
    const timeoutMs = o.testTimeoutMs ?? 300_000;
    plan.push(task("test", "repo.test", ["detect"], {
      inputs: {
        repo: o.repo,
        timeoutMs,
        ...(o.scratch ? { scratch: o.scratch } : {}),
        unsandboxed: o.unsandboxed ?? false,
      },
      timeoutMs: timeoutMs + 5_000,
      retry: { maxAttempts: 1 },
      risk: "medium",
    }));
  }
  return plan;
}
