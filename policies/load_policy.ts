import { parse as parseYaml } from "yaml";
import type { z } from "zod";
import { TroupeError } from "../runtime/errors.ts";
import { PolicySet } from "./policy.ts";

/** A policy, pack or other data file that cannot be used: each problem names the path inside it. */
export class PolicyFileError extends TroupeError<"invalid_file"> {
  constructor(readonly file: string, readonly problems: string[], what = "policy") {
    super(
      "invalid_file",
      `${file}: invalid ${what}\n${problems.map((p) => `  - ${p}`).join("\n")}`,
      {
        file,
      },
    );
    this.name = "PolicyFileError";
  }
}

/** Reads a policy set from JSON or YAML (by extension) and validates it, naming file and path. */
export function loadPolicyFile(file: string): Promise<PolicySet> {
  return loadPolicyData(file, PolicySet);
}

/**
 * Reads a JSON or YAML file (by extension) and validates it against `schema`; every problem is a
 * `PolicyFileError` naming the file and the path inside it. `hint` is added when it cannot be read;
 * `what` names the kind of file.
 */
export async function loadPolicyData<T extends z.ZodType>(
  file: string,
  schema: T,
  hint = "",
  what = "policy",
): Promise<z.output<T>> {
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (err) {
    throw new PolicyFileError(file, [`cannot read it${hint}: ${(err as Error).message}`], what);
  }
  let data: unknown;
  try {
    data = /\.ya?ml$/i.test(file) ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    throw new PolicyFileError(file, [
      `not valid ${/\.ya?ml$/i.test(file) ? "YAML" : "JSON"}: ${(err as Error).message}`,
    ], what);
  }
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    throw new PolicyFileError(
      file,
      parsed.error.issues.map((i) =>
        `at ${i.path.length ? i.path.join(".") : "(top level)"}: ${i.message}`
      ),
      what,
    );
  }
  return parsed.data;
}
