import type { Ledger } from "../../ledger/mod.ts";
import type { ApprovalDesk, ApprovalRequest, PolicyEngine } from "../../policies/mod.ts";
import type { ActorSpecInput } from "../../runtime/mod.ts";
import { deploy } from "../deploy/deploy_release.ts";
import type { TestRun } from "../agents/kit/run_tests.ts";
import type { Review } from "../agents/reviewer.ts";
import { defineAgent } from "../tasks/define_agent.ts";
import { TASK_KINDS } from "../tasks/task_kinds.ts";

/** What a run's deployer works with: the run's own ledger, policy and approvals. */
export interface RunDeployerOptions {
  ledger: Ledger;
  runId: string;
  policy: PolicyEngine;
  desk: ApprovalDesk;
  signal?: AbortSignal;
  /** A replay deploys nothing: its deploy's outcome comes from the record. */
  replaying?: boolean;
  onNews?: (text: string) => void;
  onApprovalNeeded?: (request: ApprovalRequest) => void;
}

/**
 * The run's deployer, on the run's own thread (a deploy starts processes and nginx, records each
 * step in the run's ledger and asks the run's policy and approvers, none of which an agent's
 * worker holds): it deploys only what the review approved and, with `--run-tests`, whose tests
 * passed; a deploy that is refused or rolled back fails the task, saying why.
 */
export function runDeployerSpec(id: string, o: RunDeployerOptions): ActorSpecInput {
  const behaviour = defineAgent(import.meta.url, TASK_KINDS, {
    deploy: async (inputs, deps) => {
      if (o.replaying) throw new Error("a replay deploys nothing; the recorded outcome is its own");
      const review = deps.review as Review | undefined;
      if (review?.verdict !== "approve") {
        throw new Error(
          `not deployed: the review's verdict is ${review?.verdict ?? "missing"}` +
            (review?.problems.length ? ` (${review.problems.join("; ")})` : ""),
        );
      }
      // "ran no test" is the review's note, not a failure.
      const failed = ((deps.test as TestRun[] | undefined) ?? [])
        .filter((t) => t.verdict === "failed");
      if (failed.length) {
        throw new Error(`not deployed: tests failed (${failed.map((t) => t.project).join(", ")})`);
      }
      const { replaying: _, ...options } = o;
      const outcome = await deploy({ ...options, ...inputs });
      if (outcome.status !== "live") {
        throw new Error(
          `release ${outcome.releaseId} ${outcome.status.replace("_", " ")} on ${outcome.env}: ` +
            `${outcome.reason}; serving ${outcome.live ?? "nothing"} at ${outcome.url}`,
        );
      }
      return outcome;
    },
  });
  return { id, behaviour, isolation: "inline", capabilities: ["service.deploy"] };
}
