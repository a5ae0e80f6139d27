import {
  autonomyPreset,
  loadPolicyFile,
  PolicyEngine,
  type PolicySet,
  RiskLevel,
} from "../../policies/mod.ts";
import { defineCommand, JSON_FLAG } from "../command.ts";

export const policy = defineCommand({
  name: "policy",
  summary: "validate policy files and explain decisions",
  usage: `Usage: deno task policy check FILE... [--json]
       deno task policy explain --action A --actor X [--resource R] [--capability C]
                                [--risk low|medium|high|critical] [--cost USD]
                                [--policy FILE]... [--autonomy 1-5] [--json]

check     validates JSON or YAML policy files; errors name the file, the path inside it
          and what was expected. Exits 1 when any file is invalid.
explain   shows the decision (allow, deny or require_approval) for one request under the
          autonomy preset (default 3) plus the given policy files, and the rules behind it.

Options:
  --json         print results as JSON
  -h, --help     show this help`,
  flags: {
    json: JSON_FLAG,
    action: { type: "string" },
    actor: { type: "string" },
    resource: { type: "string" },
    capability: { type: "string" },
    risk: { type: "string", default: "low" },
    cost: { type: "string" },
    policy: { type: "string", multiple: true, default: [] },
    autonomy: { type: "string", default: "3" },
  },
  async run(flags, [sub, ...files], fail) {
    if (sub === "check") {
      if (files.length === 0) return fail("check needs at least one FILE");
      const results = [];
      for (const file of files) {
        try {
          const set = await loadPolicyFile(file);
          results.push({ file, ok: true, name: set.name, rules: set.rules.length });
        } catch (err) {
          results.push({
            file,
            ok: false,
            problems: (err as { problems?: string[] }).problems ?? [String(err)],
          });
        }
      }
      if (flags.json) console.log(JSON.stringify(results, null, 2));
      else {
        for (const r of results) {
          if (r.ok) console.log(`ok: ${r.file} (policy "${r.name}", ${r.rules} rules)`);
          else {console.error(`invalid: ${r.file}\n${
              r.problems!.map((p) => `  - ${p}`).join("\n")
            }`);}
        }
      }
      return results.every((r) => r.ok) ? 0 : 1;
    }
    if (sub !== "explain") return fail('the subcommands are "check" and "explain"');
    if (!flags.action || !flags.actor) return fail("explain needs --action and --actor");
    const risk = RiskLevel.safeParse(flags.risk);
    if (!risk.success) {
      return fail(`--risk must be low, medium, high or critical, not "${flags.risk}"`);
    }
    const cost = flags.cost === undefined ? undefined : Number(flags.cost);
    if (cost !== undefined && !(cost >= 0)) {
      return fail(`--cost takes a number of US dollars, not "${flags.cost}"`);
    }
    const level = Number(flags.autonomy);
    if (!Number.isInteger(level) || level < 1 || level > 5) {
      return fail("--autonomy takes a level from 1 to 5");
    }
    const sets: PolicySet[] = [];
    for (const file of flags.policy) sets.push(await loadPolicyFile(file));
    const engine = new PolicyEngine([autonomyPreset(level), ...sets]);
    const decision = engine.decide({
      action: flags.action,
      actor: flags.actor,
      risk: risk.data,
      ...(flags.resource ? { resource: flags.resource } : {}),
      ...(flags.capability ? { capability: flags.capability } : {}),
      ...(cost !== undefined ? { costUsd: cost } : {}),
    });
    if (flags.json) console.log(JSON.stringify(decision, null, 2));
    else {
      console.log(`${decision.effect.toUpperCase()}: ${decision.reason}`);
      if (decision.approval) {
        console.log(
          `  needs ${decision.approval.threshold} signature(s) from: ${
            decision.approval.roles.join(", ")
          }`,
        );
      }
      for (const m of decision.matched) {
        console.log(
          `  matched ${m.policy}/${m.rule}: ${m.effect} (${m.severity})${
            m.description ? ` - ${m.description}` : ""
          }`,
        );
      }
    }
    return 0;
  },
});
