import { z } from "zod";
import { loadPolicyData } from "./load_policy.ts";
import { compilePattern } from "./pattern.ts";
import { Globs, PolicySet, Severity } from "./policy.ts";

const Regex = z.string().min(1).superRefine((s, ctx) => {
  try {
    compilePattern(s);
  } catch (err) {
    ctx.addIssue({
      code: "custom",
      message: `not a valid regular expression (RE2 syntax: no lookarounds or backreferences): ${
        (err as Error).message
      }`,
    });
  }
});

/**
 * How a control is checked on a repository:
 * - `finding`: any assessor finding with one of these rules (e.g. committed secrets) violates it;
 * - `pattern`: a line matching `pattern` in a file matching `files` violates it, unless the same
 *   file also matches `unless` (e.g. a deploy job without an approval gate); a match that
 *   `except` matches does not count (e.g. addresses at example.com);
 * - `absent`: it is violated when no file matching `files` matches `pattern` (e.g. no audit log).
 */
export const ControlCheck = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("finding"), rules: z.array(z.string().min(1)).min(1) }),
  z.strictObject({
    kind: z.literal("pattern"),
    files: Globs,
    pattern: Regex,
    unless: Regex.optional(),
    except: Regex.optional(),
  }),
  z.strictObject({ kind: z.literal("absent"), files: Globs, pattern: Regex }),
]);
/** How a control is checked: an assessor finding, a pattern that must not match, or one that must. */
export type ControlCheck = z.infer<typeof ControlCheck>;

/** One control of a pack: its id, what it requires, and its check. */
export const Control = z.strictObject({
  id: z.string().min(1),
  title: z.string().min(1),
  severity: Severity,
  check: ControlCheck,
});
/** One control of a pack: its id, what it requires, and its check. */
export type Control = z.infer<typeof Control>;

/** A compliance pack: repository controls the assessor checks, and policy rules for actions. */
export const CompliancePack = z.strictObject({
  name: z.string().regex(/^[a-z0-9-]+$/),
  framework: z.string().min(1),
  description: z.string(),
  controls: z.array(Control).min(1),
  policy: PolicySet.optional(),
});
/** A compliance pack: controls checked against a repository, and policy rules for the run. */
export type CompliancePack = z.infer<typeof CompliancePack>;

/** The packs troupe ships: soc2, gdpr, hipaa. */
export const BUILTIN_PACKS = ["soc2", "gdpr", "hipaa"];

/** Loads a built-in pack by name or a pack file (YAML or JSON), naming file and path on error. */
export function loadCompliancePack(nameOrFile: string): Promise<CompliancePack> {
  const file = BUILTIN_PACKS.includes(nameOrFile)
    ? new URL(`./packs/${nameOrFile}.yaml`, import.meta.url).pathname
    : nameOrFile;
  return loadPolicyData(file, CompliancePack, ` (built-in packs: ${BUILTIN_PACKS.join(", ")})`);
}
