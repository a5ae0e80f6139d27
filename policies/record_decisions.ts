import { z } from "zod";
import { eventType, type Ledger } from "../ledger/mod.ts";
import { ActionRequest, Approval, Effect } from "./policy.ts";
import type { Decision } from "./policy_engine.ts";

/** A decision of the policy engine: the request, its effect, the rules behind it and why. */
export const PolicyDecision = eventType(
  "policy_decision",
  z.object({
    request: ActionRequest,
    effect: Effect,
    decidedBy: z.array(z.string()),
    matched: z.array(z.string()),
    reason: z.string(),
    approval: Approval.optional(),
  }),
);

/** An `onDecision` hook that writes every decision to the ledger as a `policy_decision` event. */
export function recordDecisions(
  ledger: Ledger,
  runId: string | null = null,
): (d: Decision) => void {
  return (d) => {
    ledger.record(PolicyDecision, {
      runId,
      actor: d.request.actor,
      payload: {
        request: d.request,
        effect: d.effect,
        decidedBy: d.decidedBy.map((m) => `${m.policy}/${m.rule}`),
        matched: d.matched.map((m) => `${m.policy}/${m.rule}`),
        reason: d.reason,
        ...(d.approval ? { approval: d.approval } : {}),
      },
    }).catch((err) => console.error(`troupe: could not record a policy decision: ${err.message}`));
  };
}
