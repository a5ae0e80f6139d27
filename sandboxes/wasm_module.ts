import { SandboxError } from "./sandbox_error.ts";
import { readLeb, writeLeb } from "./leb128.ts";
import { HOST_FUNCTION_NAMES, HOST_NAMESPACE } from "./host_function_names.ts";

const KERNEL = "extism:host/env";
const WASI = /^wasi_(snapshot_preview1|unstable)$/;

export interface WasmShape {
  imports: WebAssembly.ModuleImportDescriptor[];
  exports: WebAssembly.ModuleExportDescriptor[];
}

/** Compiles the bytes only to read their imports and exports; bad wasm gets a clear error. */
export async function inspectWasm(bytes: Uint8Array, plugin?: string): Promise<WasmShape> {
  let module: WebAssembly.Module;
  try {
    module = await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>);
  } catch (err) {
    throw new SandboxError(
      "invalid_wasm",
      `not a valid WebAssembly module (${bytes.length} bytes; truncated or not wasm?): ${
        (err as Error).message
      }`,
      plugin,
    );
  }
  return {
    imports: WebAssembly.Module.imports(module),
    exports: WebAssembly.Module.exports(module),
  };
}

/**
 * Refuses a module that imports anything troupe does not provide, or a troupe host function its
 * manifest did not request: a plugin never links to a capability it did not ask for.
 */
export function checkImports(
  shape: WasmShape,
  requested: readonly string[],
  plugin?: string,
): string[] {
  const hostFunctions: string[] = [];
  for (const imp of shape.imports) {
    const what = `${imp.module}::${imp.name}`;
    if (imp.module === KERNEL && imp.kind === "function") continue;
    if (WASI.test(imp.module)) {
      throw new SandboxError(
        "needs_wasi",
        `imports ${what}: troupe does not offer WASI to plugins; build it for the plain Extism ` +
          "target (no WASI), e.g. Rust wasm32-unknown-unknown or AssemblyScript with troupe's kit",
        plugin,
      );
    }
    if (imp.module === HOST_NAMESPACE && imp.kind === "function") {
      if (!(HOST_FUNCTION_NAMES as readonly string[]).includes(imp.name)) {
        throw new SandboxError(
          "missing_import",
          `imports ${what}, which troupe does not provide; troupe offers ${
            HOST_FUNCTION_NAMES.join(", ")
          }`,
          plugin,
        );
      }
      if (!requested.includes(imp.name)) {
        throw new SandboxError(
          "missing_import",
          `imports ${what} but its manifest does not request it; add "${imp.name}" to hostFunctions`,
          plugin,
        );
      }
      hostFunctions.push(imp.name);
      continue;
    }
    const hint = imp.module === "env" && imp.name === "abort"
      ? " (AssemblyScript: build with troupe's kit, or pass --use abort=<your handler>)"
      : "";
    throw new SandboxError(
      "missing_import",
      `imports ${what} (${imp.kind}), which troupe does not provide${hint}`,
      plugin,
    );
  }
  return hostFunctions;
}

/** Throws unless every named function is exported. */
export function checkExports(shape: WasmShape, names: readonly string[], plugin?: string): void {
  const exported = new Set(shape.exports.filter((e) => e.kind === "function").map((e) => e.name));
  for (const name of names) {
    if (!exported.has(name)) {
      throw new SandboxError(
        "missing_export",
        `does not export a function "${name}"; it exports ${[...exported].join(", ") || "none"}`,
        plugin,
      );
    }
  }
}

/**
 * Returns a copy of the module whose memories may grow to at most `maxPages`. The SDK's
 * `memory.maxPages` bounds only the memory it holds, not the guest's own `memory.grow`, so the
 * cap goes into the module itself. Hand-written: it is one section of a binary format.
 */
export function capMemory(bytes: Uint8Array, maxPages: number, plugin?: string): Uint8Array {
  const out: number[] = Array.from(bytes.subarray(0, 8));
  let pos = 8;
  while (pos < bytes.length) {
    const id = bytes[pos];
    const [size, sizeLen] = readLebOf(bytes, pos + 1);
    const start = pos + 1 + sizeLen;
    const end = start + size;
    if (id === 5) {
      const body = rewriteMemories(bytes.subarray(start, end), maxPages, plugin);
      out.push(5, ...writeLeb(body.length), ...body);
    } else {
      for (let i = pos; i < end; i++) out.push(bytes[i]);
    }
    pos = end;
  }
  return new Uint8Array(out);
}

function rewriteMemories(body: Uint8Array, cap: number, plugin?: string): number[] {
  let [count, p] = readLebOf(body, 0);
  const out = writeLeb(count);
  while (count-- > 0) {
    const flags = body[p++];
    let min: number, max: number | undefined, n: number;
    [min, n] = readLebOf(body, p);
    p += n;
    if (flags & 1) {
      [max, n] = readLebOf(body, p);
      p += n;
    }
    if (min > cap) {
      throw new SandboxError(
        "memory_limit",
        `needs ${min} pages of memory to start, more than its limit of ${cap} pages (64 KiB each); ` +
          "raise limits.memoryPages",
        plugin,
      );
    }
    out.push(flags | 1, ...writeLeb(min), ...writeLeb(Math.min(max ?? cap, cap)));
  }
  return out;
}

/** A LEB128 number of the module, or the module is invalid. */
function readLebOf(bytes: Uint8Array, at: number): [number, number] {
  try {
    return readLeb(bytes, at);
  } catch (err) {
    throw new SandboxError("invalid_wasm", (err as Error).message);
  }
}
