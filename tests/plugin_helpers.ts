import {
  compileAssemblyScript,
  parseManifest,
  type PluginManifestInput,
  Sandbox,
  type SandboxOptions,
} from "../sandboxes/mod.ts";
import { watToWasm } from "../sandboxes/wat.ts";

const dir = new URL("./fixtures/plugins/", import.meta.url);
let hostile: Promise<Uint8Array> | undefined;

/** The misbehaving AssemblyScript fixture, compiled once per test file with troupe's compiler. */
export function hostileWasm(): Promise<Uint8Array> {
  hostile ??= Deno.readTextFile(new URL("assembly/hostile.ts", dir)).then(async (src) =>
    (await compileAssemblyScript({ "hostile.ts": src })).wasm
  );
  return hostile;
}

export async function watFixture(name: string): Promise<Uint8Array> {
  return await watToWasm(await Deno.readTextFile(new URL(name, dir)), name);
}

/** Runs `fn` with a sandbox for `wasm` that is always closed afterwards. */
export async function withSandbox(
  wasm: Uint8Array,
  manifest: Omit<PluginManifestInput, "wasm"> & { wasm?: string },
  fn: (sandbox: Sandbox) => Promise<void>,
  options: SandboxOptions = {},
): Promise<void> {
  const sandbox = await Sandbox.create(
    parseManifest({ wasm: "inline.wasm", ...manifest }),
    { ...options, wasm },
  );
  try {
    await fn(sandbox);
  } finally {
    sandbox.close();
  }
}

/** The host functions the hostile fixture imports. */
export const HOSTILE_IMPORTS = ["log", "kv_get", "kv_set", "http_fetch"] as const;
