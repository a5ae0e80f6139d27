import { z } from "zod";

/** Policies are data: these schemas are their one definition. */

/** What a rule decides. */
export const Effect = z.enum(["allow", "deny", "log", "alert", "require_approval"]);
/** What a rule decides. */
export type Effect = z.infer<typeof Effect>;

/** How much a rule's match matters. */
export const Severity = z.enum(["info", "low", "medium", "high", "critical"]);
/** How much a rule's match matters. */
export type Severity = z.infer<typeof Severity>;

/** How risky an action is. */
export const RiskLevel = z.enum(["low", "medium", "high", "critical"]);
/** How risky an action is. */
export type RiskLevel = z.infer<typeof RiskLevel>;

/** One glob or a list of them; `*` stays within a dotted or slashed segment, `**` crosses. */
export const Globs = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

const Range = <T extends z.ZodType>(t: T) =>
  z.strictObject({ min: t.optional(), max: t.optional() });

/** Who must sign an action a rule parks, how many of them, and for how long the request holds. */
export const Approval = z.strictObject({
  /** Signers must hold one of these roles. */
  roles: z.array(z.string().min(1)).min(1),
  /** How many distinct signers are needed. */
  threshold: z.number().int().min(1),
  /** How long a pending approval stays valid. */
  expiresInMs: z.number().int().positive().default(24 * 60 * 60 * 1000),
});
/** Who must sign an action a rule parks, how many of them, and for how long the request holds. */
export type Approval = z.infer<typeof Approval>;

/** One rule: what it matches, its effect and, for `require_approval`, who signs. */
export const Rule = z.strictObject({
  id: z.string().min(1),
  description: z.string().optional(),
  match: z.strictObject({
    action: Globs,
    actor: Globs.optional(),
    capability: Globs.optional(),
    resource: Globs.optional(),
    risk: Range(RiskLevel).optional(),
    costUsd: Range(z.number().min(0)).optional(),
    /**
     * Argument name → globs its value must match (a string as it is, anything else as JSON): a
     * tool with an argument pattern, as `{ path: "src/**" }`. An absent argument does not match.
     */
    arguments: z.record(z.string(), Globs).optional(),
  }),
  effect: Effect,
  severity: Severity.default("info"),
  approval: Approval.optional(),
}).refine((r) => r.effect !== "require_approval" || r.approval !== undefined, {
  message: 'a rule with effect "require_approval" needs approval: { roles, threshold }',
  path: ["approval"],
});
/** One rule: what it matches, its effect and, for `require_approval`, who signs. */
export type Rule = z.infer<typeof Rule>;

/** A named set of rules, as a policy file holds it. */
export const PolicySet = z.strictObject({
  // Bounded: a name is shown in decisions, reports and the ledger.
  name: z.string().min(1).max(200),
  description: z.string().max(10_000).optional(),
  rules: z.array(Rule),
});
/** A named set of rules, as a policy file holds it. */
export type PolicySet = z.infer<typeof PolicySet>;
/** A policy set as written, defaults not yet filled in. */
export type PolicySetInput = z.input<typeof PolicySet>;

/** What an actor asks to do. */
export const ActionRequest = z.strictObject({
  action: z.string().min(1),
  actor: z.string().min(1),
  capability: z.string().optional(),
  resource: z.string().optional(),
  risk: RiskLevel.default("low"),
  costUsd: z.number().min(0).optional(),
  /** The action's arguments, where rules may match them (a tool call's). */
  arguments: z.record(z.string(), z.unknown()).optional(),
});
/** What an actor asks to do. */
export type ActionRequest = z.infer<typeof ActionRequest>;
/** An action request as asked, defaults not yet filled in. */
export type ActionRequestInput = z.input<typeof ActionRequest>;
