/** troupe's sandboxes: Extism plugins with limits, policy-gated host functions, a compiler. @module */
export { SandboxError, type SandboxErrorKind } from "./sandbox_error.ts";
export {
  loadManifest,
  parseManifest,
  PluginLimits,
  PluginManifest,
  type PluginManifestInput,
  readPluginWasm,
  sha256Hex,
} from "./plugin_manifest.ts";
export { HOST_FUNCTION_NAMES, type HostFunctionName } from "./host_function_names.ts";
export { type HostHandler, PluginResult, Sandbox, type SandboxOptions } from "./sandbox.ts";
export { createPluginHost, type PluginHostOptions, type PluginMessaging } from "./plugin_host.ts";
export { grantPolicy } from "./plugin_grants.ts";
export { capMemory, checkImports, inspectWasm } from "./wasm_module.ts";
export { compileAssemblyScript, CompileError, type Diagnostic } from "./compile_assemblyscript.ts";
export { type GeneratedCodeOptions, runGeneratedCode } from "./generated_code.ts";
