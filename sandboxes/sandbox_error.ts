import { TroupeError } from "../runtime/errors.ts";

/** Why a plugin was refused or stopped; each kind names what to change. */
export type SandboxErrorKind =
  | "invalid_manifest"
  | "hash_mismatch"
  | "invalid_wasm"
  | "missing_import"
  | "needs_wasi"
  | "missing_export"
  | "timeout"
  | "out_of_fuel"
  | "memory_limit"
  | "output_limit"
  | "trap"
  | "plugin_error"
  | "closed";

/** Why a plugin was refused or stopped; each kind (also its `code`) names what to change. */
export class SandboxError extends TroupeError<SandboxErrorKind> {
  constructor(kind: SandboxErrorKind, message: string, readonly plugin?: string) {
    super(kind, plugin ? `plugin "${plugin}": ${message}` : message, plugin ? { plugin } : {});
    this.name = "SandboxError";
  }
  /** The same as `code`. */
  get kind(): SandboxErrorKind {
    return this.code;
  }
}
