import { join } from "node:path";
import {
  compileAssemblyScript,
  type Diagnostic,
  inspectWasm,
  loadManifest,
  SandboxError,
} from "../sandboxes/mod.ts";
import { checkImports } from "../sandboxes/wasm_module.ts";
import { sha256Hex } from "../runtime/mod.ts";
import { watToWasm } from "../sandboxes/wat.ts";

export interface BuildResult {
  wasm: string;
  sha256: string;
  bytes: number;
  diagnostics: Diagnostic[];
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

async function readSources(dir: string, prefix = ""): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for await (const e of Deno.readDir(dir)) {
    if (e.isDirectory) {
      Object.assign(files, await readSources(join(dir, e.name), `${prefix}${e.name}/`));
    } else if (e.name.endsWith(".ts")) {
      files[prefix + e.name] = await Deno.readTextFile(join(dir, e.name));
    }
  }
  return files;
}

/**
 * Builds the plugin in DIR: `assembly/index.ts` (AssemblyScript, with troupe's kit) or
 * `plugin.wat`, to the wasm file its manifest names; records the file's SHA-256 in the
 * manifest and checks that it imports only the host functions the manifest requests.
 */
export async function buildPlugin(dir: string): Promise<BuildResult> {
  const manifestFile = join(dir, "manifest.json");
  const manifest = await loadManifest(manifestFile);
  let wasm: Uint8Array;
  let diagnostics: Diagnostic[] = [];
  if (await exists(join(dir, "assembly", "index.ts"))) {
    const sources = await readSources(join(dir, "assembly"));
    ({ wasm, diagnostics } = await compileAssemblyScript(sources, { entry: "index.ts" }));
  } else if (await exists(join(dir, "plugin.wat"))) {
    wasm = await watToWasm(await Deno.readTextFile(join(dir, "plugin.wat")), "plugin.wat");
  } else {
    throw new SandboxError(
      "invalid_manifest",
      `${dir} has neither assembly/index.ts nor plugin.wat to build`,
    );
  }
  const shape = await inspectWasm(wasm, manifest.name);
  checkImports(shape, manifest.hostFunctions, manifest.name);
  await Deno.writeFile(manifest.wasm, wasm);
  const sha256 = sha256Hex(wasm);
  const raw = JSON.parse(await Deno.readTextFile(manifestFile));
  raw.sha256 = sha256;
  await Deno.writeTextFile(manifestFile, JSON.stringify(raw, null, 2) + "\n");
  return { wasm: manifest.wasm, sha256, bytes: wasm.length, diagnostics };
}

const TEMPLATE = new URL("./template/", import.meta.url);

/** Creates DIR/NAME from the template: a manifest and an AssemblyScript plugin agent. */
export async function scaffoldPlugin(name: string, parent: string): Promise<string> {
  if (!/^[a-z0-9][a-z0-9._-]{0,63}$/.test(name)) {
    throw new SandboxError(
      "invalid_manifest",
      `"${name}" is not a plugin name: use lowercase letters, digits, '.', '_' and '-'`,
    );
  }
  const dir = join(parent, name);
  if (await exists(dir)) {
    throw new SandboxError("invalid_manifest", `${dir} already exists; choose another name`);
  }
  await Deno.mkdir(join(dir, "assembly"), { recursive: true });
  for (const file of ["manifest.json", "assembly/index.ts"]) {
    const text = await Deno.readTextFile(new URL(file, TEMPLATE));
    await Deno.writeTextFile(join(dir, file), text.replaceAll("NAME", name));
  }
  await Deno.writeTextFile(join(dir, ".gitignore"), "plugin.wasm\n");
  return dir;
}
