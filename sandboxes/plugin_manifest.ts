import { dirname, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { sha256Hex } from "../runtime/mod.ts";
import { SandboxError } from "./sandbox_error.ts";
import { HOST_FUNCTION_NAMES } from "./host_function_names.ts";

export const PluginLimits = z.strictObject({
  /** Wall-clock limit of one call, host calls included. */
  timeoutMs: z.number().int().positive().max(600_000).default(1_000),
  /**
   * Fuel units one call may use: a unit is a function call or a loop iteration, and a call that
   * spends them all traps (`out_of_fuel`) on its own, deterministically. Default: 100,000 per
   * millisecond of `timeoutMs`, so a tight loop stops long before its time limit.
   */
  fuel: z.number().int().positive().max(2 ** 52).optional(),
  /** Linear memory cap in 64 KiB pages, for the guest's own memory and the SDK's. */
  memoryPages: z.number().int().min(1).max(65_536).default(256),
  maxOutputBytes: z.number().int().positive().default(1 << 20),
  maxVarBytes: z.number().int().nonnegative().default(64 << 10),
  /** Hosts `http_fetch` may reach (exact names or `*.example.com`); none by default. */
  allowedHosts: z.array(z.string().min(1)).default([]),
  /** Directories `read_file` may read below; none by default. */
  allowedPaths: z.array(z.string().min(1)).default([]),
});
export type PluginLimits = z.output<typeof PluginLimits>;
export type PluginLimitsInput = z.input<typeof PluginLimits>;

/** A plugin as its manifest declares it: name, version, wasm and its SHA-256, exports, host functions, limits and config. */
export const PluginManifest = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, "lowercase letters, digits, '.', '_', '-'"),
  version: z.string().min(1).default("0.0.0"),
  /** The wasm file, relative to the manifest. */
  wasm: z.string().min(1),
  /** Hex SHA-256 of the wasm file; checked before it is loaded. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/, "64 lowercase hex digits").optional(),
  /** Functions the plugin exports for troupe to call. */
  exports: z.array(z.string().min(1)).default([]),
  /** troupe host functions the plugin asks for; each call is still decided by policy. */
  hostFunctions: z.array(z.enum(HOST_FUNCTION_NAMES)).default([]),
  limits: PluginLimits.default(PluginLimits.parse({})),
  config: z.record(z.string(), z.string()).default({}),
});
/** A plugin as its manifest declares it: name, version, wasm and its SHA-256, exports, host functions, limits and config. */
export type PluginManifest = z.output<typeof PluginManifest>;
/** A manifest as written, defaults not yet filled in. */
export type PluginManifestInput = z.input<typeof PluginManifest>;

/** Validates a manifest object, naming each bad field. */
export function parseManifest(data: unknown, source = "manifest"): PluginManifest {
  const parsed = PluginManifest.safeParse(data);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) =>
      `  - at ${i.path.length ? i.path.join(".") : "(top level)"}: ${i.message}`
    );
    throw new SandboxError(
      "invalid_manifest",
      `${source}: invalid plugin manifest\n${problems.join("\n")}`,
    );
  }
  return parsed.data;
}

/** Reads a JSON or YAML manifest; its `wasm` path becomes absolute. */
export async function loadManifest(file: string): Promise<PluginManifest> {
  let data: unknown;
  try {
    const text = await Deno.readTextFile(file);
    data = /\.ya?ml$/i.test(file) ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    throw new SandboxError(
      "invalid_manifest",
      `${file}: cannot read the manifest: ${(err as Error).message}`,
    );
  }
  const manifest = parseManifest(data, file);
  return { ...manifest, wasm: resolve(dirname(file), manifest.wasm) };
}

/** Reads the wasm a manifest names and checks its SHA-256 before anything compiles it. */
export async function readPluginWasm(manifest: PluginManifest): Promise<Uint8Array> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(manifest.wasm);
  } catch (err) {
    throw new SandboxError(
      "invalid_wasm",
      `cannot read ${manifest.wasm}: ${(err as Error).message}`,
      manifest.name,
    );
  }
  if (manifest.sha256) {
    const actual = sha256Hex(bytes);
    if (actual !== manifest.sha256) {
      throw new SandboxError(
        "hash_mismatch",
        `${manifest.wasm} has SHA-256 ${actual}, but the manifest expects ${manifest.sha256}; ` +
          "rebuild the plugin or update the manifest if the change is trusted",
        manifest.name,
      );
    }
  }
  return bytes;
}
