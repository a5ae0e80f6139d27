import type { CompliancePack } from "../../policies/compliance_pack.ts";
import {
  type DeployTarget,
  type PlannedInputsOf,
  TASK_KINDS,
  type TaskKind,
} from "../tasks/task_kinds.ts";
import type { TaskPacketInput } from "../tasks/task_packet.ts";

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
  /** Run each project's API documentation tool and propose its pages. */
  apiDocs?: boolean;
  /** Deploy the repository to this local environment once the review approves it. */
  deploy?: DeployTarget;
  /** Let install steps reach the network when CI is verified. */
  allowInstallNetwork?: boolean;
  /** Toolchain folders of the user's home the sandbox shows, read-only. */
  homeToolchains?: string[];
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
  // A task of each kind is named for its kind; its capability and inputs are the kind's.
  const task = <K extends TaskKind>(
    kind: K,
    dependsOn: string[],
    inputs?: PlannedInputsOf<K>,
    extra: Omit<Partial<TaskPacketInput>, "inputs"> = {},
  ): TaskPacketInput => ({
    id: kind,
    kind,
    capability: TASK_KINDS[kind].capability,
    dependsOn,
    idempotencyKey: kind,
    ...(inputs ? { inputs } : {}),
    ...extra,
  });
  const plan: TaskPacketInput[] = [
    task("scan", [], { repo: o.repo }),
    task("detect", ["scan"]),
    task("assess", ["scan", "detect"], { packs: o.packs ?? [] }),
    task("plan_repairs", ["assess"]),
  ];
  if (!assessOnly) {
    plan.push(
      task("generate_ci", ["detect", "plan_repairs"]),
      task(
        "write_docs",
        ["scan", "detect", "plan_repairs", ...(o.apiDocs ? ["api_docs"] : [])],
        { date: o.date },
        // A tool that failed leaves the README without its pages, not the run without docs.
        o.apiDocs ? { optional: ["api_docs"] } : {},
      ),
      task("review", [
        "scan",
        "assess",
        "generate_ci",
        "write_docs",
        ...(o.verifyCi ? ["verify_ci"] : []),
        // A run whose own tests fail is not approved.
        ...(o.runTests ? ["test"] : []),
      ]),
    );
    if (o.deploy) {
      // After the review (which waits for the tests): only an approved repository is deployed.
      plan.push(task("deploy", ["review", ...(o.runTests ? ["test"] : [])], {
        repo: o.repo,
        ...o.deploy,
      }, { timeoutMs: 3_600_000, retry: { maxAttempts: 1 }, risk: "high" }));
    }
    if (o.apiDocs) {
      plan.push(task("api_docs", ["detect"], {
        repo: o.repo,
        scratch: o.scratch ?? "",
        unsandboxed: o.unsandboxed ?? false,
        homeToolchains: o.homeToolchains ?? [],
      }, { timeoutMs: 1_800_000, retry: { maxAttempts: 1 }, risk: "medium" }));
    }
    if (o.verifyCi) {
      plan.push(task("verify_ci", ["scan", "detect", "generate_ci"], {
        repo: o.repo,
        scratch: o.scratch ?? "",
        unsandboxed: o.unsandboxed ?? false,
        homeToolchains: o.homeToolchains ?? [],
        allowInstallNetwork: o.allowInstallNetwork ?? false,
      }, {
        timeoutMs: 3_600_000,
        retry: { maxAttempts: 1 },
        risk: "medium",
      }));
    }
  }
  if (o.runTests) {
    const timeoutMs = o.testTimeoutMs ?? 300_000;
    plan.push(task("test", ["detect"], {
      repo: o.repo,
      timeoutMs,
      scratch: o.scratch ?? "",
      unsandboxed: o.unsandboxed ?? false,
      homeToolchains: o.homeToolchains ?? [],
    }, {
      timeoutMs: timeoutMs + 5_000,
      retry: { maxAttempts: 1 },
      risk: "medium",
    }));
  }
  return plan;
}
