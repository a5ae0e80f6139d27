import type { PolicySetInput } from "./policy.ts";

type RuleInput = PolicySetInput["rules"][number];

const approve = (
  id: string,
  action: string | string[],
  threshold = 1,
  extra: Partial<RuleInput> = {},
): RuleInput => ({
  id,
  match: { action },
  effect: "require_approval",
  severity: "medium",
  approval: { roles: ["approver"], threshold },
  ...extra,
});
const allow = (id: string, action: string | string[]): RuleInput => ({
  id,
  match: { action },
  effect: "allow",
});

/** Always true, at every level: production deploys and policy changes wait for two approvers. */
const ALWAYS: RuleInput[] = [
  approve("deploy-production", "deploy.production", 2, { severity: "critical" }),
  approve("policy-change", "policy.change", 2, { severity: "critical" }),
];

const WRITES = ["fs.write", "fs.delete"];
const RUNS = ["proc.run", "plugin.host_call"];
const OUTSIDE = ["net.fetch", "llm.call"];
const SHARED = ["git.push", "git.commit", "deploy.*"];
/** A model's tool call: resource `builtin/TOOL` or `mcp/SERVER/TOOL`, its arguments matchable. */
const TOOL = "tool.call";

/**
 * Five autonomy presets. Level 1 (assisted): every write, run or call out needs approval.
 * Level 5 (autonomous): only production deploys and policy changes do. A preset is an ordinary
 * policy set: add rules in your own sets to extend it; a deny in any set overrides it.
 */
export function autonomyPreset(level: number): PolicySetInput {
  if (!Number.isInteger(level) || level < 1 || level > 5) {
    throw new RangeError(`autonomy level must be 1 to 5, got ${level}`);
  }
  const rules: RuleInput[] = [...ALWAYS];
  const gate = (id: string, actions: string[], allowed: boolean) =>
    rules.push(allowed ? allow(id, actions) : approve(id, actions));
  gate("writes", WRITES, level >= 2);
  gate("runs", RUNS, level >= 3);
  gate("outside", OUTSIDE, level >= 3);
  gate("shared", SHARED, level >= 4);
  if (level >= 5) rules.push(allow("staging-deploys", "deploy.*"));
  // An agent's built-in tools read, edit and test a scratch copy, inside the sandbox: allowed at
  // every level. Tools of MCP servers reach outside it, as calls out do.
  rules.push({ ...allow("workspace-tools", TOOL), match: { action: TOOL, resource: "builtin/*" } });
  const mcp = level >= 3 ? allow("mcp-tools", TOOL) : approve("mcp-tools", TOOL);
  rules.push({ ...mcp, match: { action: TOOL, resource: "mcp/**" } });
  return {
    name: `autonomy-${level}`,
    description: [
      "",
      "assisted: every write, run or call out needs approval",
      "supervised: workspace writes allowed; runs, calls out, pushes and deploys need approval",
      "collaborative: writes, runs, LLM and network calls allowed; pushes and deploys need approval",
      "delegated: only deploys (and production, policy changes) need approval",
      "autonomous: only production deploys and policy changes need approval",
    ][level],
    rules,
  };
}

/**
 * The preset as the user tailored it: a rule in the user's sets with the same id as a preset
 * rule replaces it (override); every other rule is added (extend).
 */
export function tailoredPreset(level: number, sets: PolicySetInput[]): PolicySetInput[] {
  const preset = autonomyPreset(level);
  const ids = new Set(sets.flatMap((s) => s.rules.map((r) => r.id)));
  return [{ ...preset, rules: preset.rules.filter((r) => !ids.has(r.id)) }, ...sets];
}
