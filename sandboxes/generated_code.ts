import { PolicyEngine } from "../policies/mod.ts";
import { compileAssemblyScript } from "./compile_assemblyscript.ts";
import { grantPolicy } from "./plugin_grants.ts";
import { createPluginHost, type PluginHostOptions } from "./plugin_host.ts";
import { parseManifest, type PluginLimitsInput } from "./plugin_manifest.ts";
import { type PluginResult, Sandbox } from "./sandbox.ts";
import { inspectWasm } from "./wasm_module.ts";

/** Who runs generated code, which function with what input, its limits and the host calls it is granted. */
export interface GeneratedCodeOptions {
  /** Who generated it; host calls are decided for this actor. */
  actor: string;
  /** The exported function to call. */
  fn: string;
  input?: Uint8Array | string | unknown;
  limits?: PluginLimitsInput;
  /** Host calls allowed (`FN` or `FN:RESOURCE`); nothing else is. */
  grants?: string[];
  ledger?: PluginHostOptions["ledger"];
  messaging?: PluginHostOptions["messaging"];
}

/**
 * Compiles AssemblyScript an agent generated (in a permissionless worker; errors come back
 * as diagnostics) and runs one function of it in a sandbox with limits. The code may import
 * any troupe host function, but only granted calls succeed. To run several functions of one
 * source, pass what `compileAssemblyScript({ "generated.ts": source })` made instead.
 */
export async function runGeneratedCode(
  source: string | { wasm: Uint8Array },
  o: GeneratedCodeOptions,
): Promise<PluginResult> {
  const { wasm } = typeof source === "string"
    ? await compileAssemblyScript({ "generated.ts": source })
    : source;
  const shape = await inspectWasm(wasm, o.actor);
  const manifest = parseManifest({
    name: o.actor.toLowerCase().replace(/[^a-z0-9._-]/g, "-").replace(/^[^a-z0-9]/, "g"),
    wasm: "generated.wasm",
    hostFunctions: shape.imports.filter((i) => i.module === "troupe").map((i) => i.name),
    limits: o.limits ?? {},
  });
  const host = await createPluginHost({
    actor: o.actor,
    limits: manifest.limits,
    policy: new PolicyEngine([grantPolicy(o.actor, o.grants ?? [])]),
    ledger: o.ledger,
    messaging: o.messaging,
  });
  const sandbox = await Sandbox.create(manifest, { wasm, host });
  try {
    return await sandbox.call(o.fn, o.input ?? "");
  } finally {
    sandbox.close();
  }
}
