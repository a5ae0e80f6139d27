import { Buffer } from "node:buffer";
import { join } from "node:path";
import type { Ledger } from "../ledger/mod.ts";
import { PolicyEngine } from "../policies/mod.ts";
import {
  createPluginHost,
  grantPolicy,
  inspectWasm,
  loadManifest,
  parseManifest,
  type PluginManifest,
  Sandbox,
  SandboxError,
} from "../sandboxes/mod.ts";
import { sha256Hex } from "../runtime/mod.ts";
import { checkImports } from "../sandboxes/wasm_module.ts";

/** What the shelf lists of a plugin. */
export interface ShelvedPlugin {
  name: string;
  version: string;
  sha256: string;
  exports: string[];
  hostFunctions: string[];
  limits: PluginManifest["limits"];
}

/**
 * The plugins a server keeps: each in `DIR/NAME/` as `manifest.json` and `NAME.wasm`, checked
 * when it is stored (manifest, hash, imports) and again when it is loaded, and called in a
 * sandbox of its own with its manifest's limits, or tighter ones the caller asks for.
 */
export class PluginShelf {
  constructor(readonly dir: string, readonly ledger?: Ledger) {}

  /** Every stored plugin, by name. */
  async list(): Promise<ShelvedPlugin[]> {
    const out: ShelvedPlugin[] = [];
    try {
      for await (const e of Deno.readDir(this.dir)) {
        if (!e.isDirectory) continue;
        const m = await loadManifest(join(this.dir, e.name, "manifest.json")).catch(() => null);
        if (!m) continue;
        out.push({
          name: m.name,
          version: m.version,
          sha256: m.sha256 ?? "",
          exports: m.exports,
          hostFunctions: m.hostFunctions,
          limits: m.limits,
        });
      }
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }

  /**
   * Checks and stores a plugin: a valid manifest, wasm whose SHA-256 matches the manifest's
   * (when it gives one), and imports troupe provides and the manifest requests. Replaces a
   * plugin of the same name.
   */
  async store(manifestInput: unknown, wasmBase64: string): Promise<ShelvedPlugin> {
    const manifest = parseManifest(manifestInput, "the uploaded manifest");
    const wasm = new Uint8Array(Buffer.from(wasmBase64, "base64"));
    const sha256 = sha256Hex(wasm);
    if (manifest.sha256 && manifest.sha256 !== sha256) {
      throw new SandboxError(
        "hash_mismatch",
        `the manifest expects ${manifest.sha256}; the uploaded wasm is ${sha256}`,
        manifest.name,
      );
    }
    const shape = await inspectWasm(wasm, manifest.name);
    checkImports(shape, manifest.hostFunctions, manifest.name);
    const dir = join(this.dir, manifest.name);
    await Deno.mkdir(dir, { recursive: true });
    const file = `${manifest.name}.wasm`;
    await Deno.writeFile(join(dir, file), wasm);
    const stored = { ...manifest, wasm: file, sha256 };
    await Deno.writeTextFile(join(dir, "manifest.json"), JSON.stringify(stored, null, 2) + "\n");
    return {
      name: stored.name,
      version: stored.version,
      sha256,
      exports: stored.exports,
      hostFunctions: stored.hostFunctions,
      limits: stored.limits,
    };
  }

  /**
   * Calls `fn` of a stored plugin once, in a fresh sandbox that is closed after; host calls are
   * refused but `log` (and recorded as denied). `timeoutMs` may only tighten the manifest's.
   */
  async call(
    name: string,
    fn: string,
    input: unknown,
    timeoutMs?: number,
  ): Promise<{ text: string; bytes: number; ms: number }> {
    if (!/^[a-z0-9][a-z0-9._-]{0,63}$/.test(name)) {
      throw new SandboxError("invalid_manifest", `"${name}" is not a plugin name`);
    }
    const manifest = await loadManifest(join(this.dir, name, "manifest.json")).catch(() => {
      throw new SandboxError("invalid_manifest", `no plugin "${name}" on this server`, name);
    });
    const limits = {
      ...manifest.limits,
      timeoutMs: Math.min(manifest.limits.timeoutMs, timeoutMs ?? manifest.limits.timeoutMs),
    };
    const host = await createPluginHost({
      actor: `plugin:${name}`,
      limits,
      policy: new PolicyEngine([grantPolicy(`plugin:${name}`, ["log"])]),
      ...(this.ledger ? { ledger: this.ledger } : {}),
    });
    const sandbox = await Sandbox.create({ ...manifest, limits }, { host });
    try {
      const started = performance.now();
      const result = await sandbox.call(fn, input);
      return {
        text: result.text(),
        bytes: result.bytes?.length ?? 0,
        ms: Math.round(performance.now() - started),
      };
    } finally {
      sandbox.close();
    }
  }
}
