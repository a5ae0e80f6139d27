import type { Ledger } from "../ledger/mod.ts";
import type { Decision } from "./policy_engine.ts";

/** An `onDecision` hook that writes every decision to the ledger as a `policy_decision` event. */
export function recordDecisions(
  ledger: Ledger,
  runId: string | null = null,
): (d: Decision) => void {
  return (d) => {
    ledger.append({
      runId,
      actor: d.request.actor,
      type: "policy_decision",
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
