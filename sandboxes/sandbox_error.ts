/** Why a plugin was refused or stopped; each kind names what to change. */
export type SandboxErrorKind =
  | "invalid_manifest"
  | "hash_mismatch"
  | "invalid_wasm"
  | "missing_import"
  | "needs_wasi"
  | "missing_export"
  | "timeout"
  | "memory_limit"
  | "output_limit"
  | "trap"
  | "plugin_error"
  | "closed";

export class SandboxError extends Error {
  constructor(
    readonly kind: SandboxErrorKind,
    message: string,
    readonly plugin?: string,
  ) {
    super(plugin ? `plugin "${plugin}": ${message}` : message);
    this.name = "SandboxError";
  }
}
