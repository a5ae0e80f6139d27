import { z } from "zod";

/** Policies are data: these schemas are their one definition. */

export const Effect = z.enum(["allow", "deny", "log", "alert", "require_approval"]);
export type Effect = z.infer<typeof Effect>;

export const Severity = z.enum(["info", "low", "medium", "high", "critical"]);
export type Severity = z.infer<typeof Severity>;

export const RiskLevel = z.enum(["low", "medium", "high", "critical"]);
export type RiskLevel = z.infer<typeof RiskLevel>;

/** One glob or a list of them; `*` stays within a dotted or slashed segment, `**` crosses. */
export const Globs = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

const Range = <T extends z.ZodType>(t: T) =>
  z.strictObject({ min: t.optional(), max: t.optional() });

export const Approval = z.strictObject({
  /** Signers must hold one of these roles. */
  roles: z.array(z.string().min(1)).min(1),
  /** How many distinct signers are needed. */
  threshold: z.number().int().min(1),
  /** How long a pending approval stays valid. */
  expiresInMs: z.number().int().positive().default(24 * 60 * 60 * 1000),
});
export type Approval = z.infer<typeof Approval>;

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
  }),
  effect: Effect,
  severity: Severity.default("info"),
  approval: Approval.optional(),
}).refine((r) => r.effect !== "require_approval" || r.approval !== undefined, {
  message: 'a rule with effect "require_approval" needs approval: { roles, threshold }',
  path: ["approval"],
});
export type Rule = z.infer<typeof Rule>;

export const PolicySet = z.strictObject({
  name: z.string().min(1),
  description: z.string().optional(),
  rules: z.array(Rule),
});
export type PolicySet = z.infer<typeof PolicySet>;
export type PolicySetInput = z.input<typeof PolicySet>;

/** What an actor asks to do. */
export const ActionRequest = z.strictObject({
  action: z.string().min(1),
  actor: z.string().min(1),
  capability: z.string().optional(),
  resource: z.string().optional(),
  risk: RiskLevel.default("low"),
  costUsd: z.number().min(0).optional(),
});
export type ActionRequest = z.infer<typeof ActionRequest>;
export type ActionRequestInput = z.input<typeof ActionRequest>;
