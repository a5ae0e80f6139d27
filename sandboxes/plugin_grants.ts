import type { PolicySetInput } from "../policies/mod.ts";
import { HOST_FUNCTION_NAMES } from "./host_function_names.ts";
import { SandboxError } from "./sandbox_error.ts";

/**
 * A policy set allowing one plugin the host calls an operator grants, each written `FN` or
 * `FN:RESOURCE` (a glob): `kv_get`, `emit:actor:reviewer`, `http_fetch:api.example.com`.
 */
export function grantPolicy(actor: string, grants: string[]): PolicySetInput {
  return {
    name: `grants:${actor}`,
    rules: grants.map((grant, i) => {
      const at = grant.indexOf(":");
      const fn = at < 0 ? grant : grant.slice(0, at);
      const resource = at < 0 ? "**" : grant.slice(at + 1);
      if (!(HOST_FUNCTION_NAMES as readonly string[]).includes(fn)) {
        throw new SandboxError(
          "invalid_manifest",
          `grant "${grant}" names no troupe host function; use one of ${
            HOST_FUNCTION_NAMES.join(", ")
          }, optionally followed by ":RESOURCE"`,
        );
      }
      return {
        id: `grant-${i + 1}-${fn}`,
        match: { action: "plugin.host_call", actor, capability: fn, resource },
        effect: "allow" as const,
      };
    }),
  };
}
