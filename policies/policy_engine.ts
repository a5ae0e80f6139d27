import { z } from "zod";
import { globs } from "./globs.ts";
import {
  ActionRequest,
  type ActionRequestInput,
  type Approval,
  type Effect,
  PolicySet,
  type PolicySetInput,
  type RiskLevel,
  type Rule,
  type Severity,
} from "./policy.ts";

/** Actions that change nothing outside troupe; every other action is privileged. */
export const UNPRIVILEGED_ACTIONS = ["fs.read", "ledger.query", "message.send"];

/** A rule that matched a request, and its policy set. */
export interface MatchedRule {
  policy: string;
  rule: string;
  effect: Effect;
  severity: Severity;
  description?: string;
}

/** The engine's answer to one request: the effect, the rules that decided it and why. */
export interface Decision {
  request: ActionRequest;
  effect: "allow" | "deny" | "require_approval";
  /** The rules whose effect decided, strongest first. */
  decidedBy: MatchedRule[];
  /** Every matching rule, including log and alert rules. */
  matched: MatchedRule[];
  /** Combined approval requirement when the effect is require_approval. */
  approval?: Approval;
  /** Whether a log or alert rule matched (the decision is recorded either way). */
  alert: boolean;
  reason: string;
}

const RISK_ORDER: Record<RiskLevel, number> = { low: 0, medium: 1, high: 2, critical: 3 };
const STRENGTH: Effect[] = ["deny", "require_approval", "allow"];

function matches(rule: Rule, req: ActionRequest): boolean {
  const { match } = rule;
  if (!globs(match.action)(req.action)) return false;
  if (match.actor && !globs(match.actor)(req.actor)) return false;
  if (match.capability && !(req.capability && globs(match.capability)(req.capability))) {
    return false;
  }
  if (match.resource && !(req.resource && globs(match.resource)(req.resource))) return false;
  if (match.risk?.min && RISK_ORDER[req.risk] < RISK_ORDER[match.risk.min]) return false;
  if (match.risk?.max && RISK_ORDER[req.risk] > RISK_ORDER[match.risk.max]) return false;
  if (match.costUsd) {
    const cost = req.costUsd ?? 0;
    if (match.costUsd.min !== undefined && cost < match.costUsd.min) return false;
    if (match.costUsd.max !== undefined && cost > match.costUsd.max) return false;
  }
  for (const [name, patterns] of Object.entries(match.arguments ?? {})) {
    const value = req.arguments?.[name];
    if (value === undefined) return false;
    if (!globs(patterns)(typeof value === "string" ? value : JSON.stringify(value))) return false;
  }
  return true;
}

/** Several approval rules combine to the strictest: every role named, the highest threshold. */
export function combineApprovals(approvals: Approval[]): Approval {
  return {
    roles: [...new Set(approvals.flatMap((a) => a.roles))],
    threshold: Math.max(...approvals.map((a) => a.threshold)),
    expiresInMs: Math.min(...approvals.map((a) => a.expiresInMs)),
  };
}

/**
 * Decides requests against policy sets. Deny overrides approval, approval overrides allow; log
 * and alert rules never decide. A privileged action that no rule allows is denied.
 */
export class PolicyEngine {
  readonly sets: PolicySet[];

  constructor(
    sets: PolicySetInput[],
    readonly options: { onDecision?: (d: Decision) => void } = {},
  ) {
    this.sets = sets.map((s) => PolicySet.parse(s));
  }

  /** Decides one request: deny over approval over allow, and deny when nothing matches a privileged action. */
  decide(input: ActionRequestInput): Decision {
    const parsed = ActionRequest.safeParse(input);
    if (!parsed.success) {
      throw new Error(`invalid action request: ${z.prettifyError(parsed.error)}`);
    }
    const req = parsed.data;
    const hits: { m: MatchedRule; rule: Rule }[] = [];
    for (const set of this.sets) {
      for (const rule of set.rules) {
        if (!matches(rule, req)) continue;
        hits.push({
          rule,
          m: {
            policy: set.name,
            rule: rule.id,
            effect: rule.effect,
            severity: rule.severity,
            ...(rule.description ? { description: rule.description } : {}),
          },
        });
      }
    }
    const matched = hits.map((h) => h.m);
    const alert = matched.some((m) => m.effect === "log" || m.effect === "alert");
    const strongest = STRENGTH.find((effect) => hits.some((h) => h.rule.effect === effect));
    let decision: Decision;
    if (strongest) {
      const deciding = hits.filter((h) => h.rule.effect === strongest);
      const names = deciding.map((h) => `${h.m.policy}/${h.m.rule}`).join(", ");
      decision = {
        request: req,
        effect: strongest as Decision["effect"],
        decidedBy: deciding.map((h) => h.m),
        matched,
        alert,
        reason: `${
          {
            deny: "denied",
            allow: "allowed",
            require_approval: "approval required",
          }[strongest as string]
        } by ${names}`,
        ...(strongest === "require_approval"
          ? { approval: combineApprovals(deciding.map((h) => h.rule.approval!)) }
          : {}),
      };
    } else {
      const privileged = !UNPRIVILEGED_ACTIONS.includes(req.action);
      decision = {
        request: req,
        effect: privileged ? "deny" : "allow",
        decidedBy: [],
        matched,
        alert,
        reason: privileged
          ? `no rule allows the privileged action "${req.action}" for actor "${req.actor}"; denied by default`
          : `"${req.action}" is not privileged and no rule restricts it`,
      };
    }
    this.options.onDecision?.(decision);
    return decision;
  }
}
