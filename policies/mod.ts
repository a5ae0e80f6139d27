/**
 * troupe's policy engine: rules as data, decisions with reasons, autonomy presets, keys,
 * warrants, multi-signature approvals and compliance packs.
 *
 * ```ts
 * import { autonomyPreset, PolicyEngine } from "./policies/mod.ts";
 *
 * const engine = new PolicyEngine(autonomyPreset(3));
 * const d = engine.decide({ action: "fs.write", actor: "coder", resource: "src/a.ts" });
 * console.log(d.effect, d.reason);
 * ```
 *
 * @module
 */
export {
  ActionRequest,
  type ActionRequestInput,
  Approval,
  Effect,
  PolicySet,
  type PolicySetInput,
  RiskLevel,
  Rule,
  Severity,
} from "./policy.ts";
export {
  combineApprovals,
  type Decision,
  type MatchedRule,
  PolicyEngine,
  UNPRIVILEGED_ACTIONS,
} from "./policy_engine.ts";
export { autonomyPreset, tailoredPreset } from "./autonomy.ts";
export { loadPolicyFile, PolicyFileError } from "./load_policy.ts";
export { recordDecisions } from "./record_decisions.ts";
export {
  DEFAULT_KEY_DIR,
  type KeyFile,
  newKey,
  readKeyFile,
  readTrustList,
  Role,
  type TrustedKey,
  type TrustList,
} from "./keys.ts";
export {
  issueWarrant,
  type WarrantCheck,
  WarrantClaims,
  type WarrantUse,
  WarrantVerifier,
} from "./warrant.ts";
export {
  ApprovalRequest,
  type ApprovalState,
  ApprovalTally,
  checkVote,
  requestHash,
  SignedVote,
  signVote,
  Vote,
} from "./approval.ts";
export {
  castVote,
  type InboxEntry,
  type InboxStatus,
  listApprovals,
  MAX_VOTE_BYTES,
  readRequest,
} from "./approval_inbox.ts";
export { ApprovalDesk, DEFAULT_APPROVALS_DIR, describe, type Final } from "./approval_desk.ts";
export {
  BUILTIN_PACKS,
  CompliancePack,
  Control,
  ControlCheck,
  loadCompliancePack,
} from "./compliance_pack.ts";
export { compilePattern, type Pattern } from "./pattern.ts";
