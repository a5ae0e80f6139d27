/**
 * troupe's sandboxes: Extism plugins in permissionless workers with time and memory limits,
 * host functions gated by the policy engine, and a compiler for generated AssemblyScript.
 *
 * ```ts
 * import { loadManifest, Sandbox } from "./sandboxes/mod.ts";
 *
 * const sandbox = await Sandbox.create(await loadManifest("plugins/examples/text_transform/manifest.json"));
 * console.log((await sandbox.call("transform", { op: "slug", text: "Hello, World" })).json());
 * sandbox.close();
 * ```
 *
 * @module
 */
export { SandboxError, type SandboxErrorKind } from "./sandbox_error.ts";
export {
  loadManifest,
  parseManifest,
  type PluginManifest,
  type PluginManifestInput,
} from "./plugin_manifest.ts";
export { HOST_FUNCTION_NAMES, type HostFunctionName } from "./host_function_names.ts";
export { type HostHandler, PluginResult, Sandbox, type SandboxOptions } from "./sandbox.ts";
export { createPluginHost, type PluginHostOptions, type PluginMessaging } from "./plugin_host.ts";
export { grantPolicy } from "./plugin_grants.ts";
export { inspectWasm } from "./wasm_module.ts";
export { compileAssemblyScript, CompileError, type Diagnostic } from "./compile_assemblyscript.ts";
export { type GeneratedCodeOptions, runGeneratedCode } from "./generated_code.ts";
