import { basename } from "node:path";
import { Ledger } from "../../ledger/mod.ts";
import { loadPolicyFile, PolicyEngine, type PolicySetInput } from "../../policies/mod.ts";
import { buildPlugin, scaffoldPlugin } from "../../plugins/build_plugin.ts";
import {
  createPluginHost,
  grantPolicy,
  HOST_FUNCTION_NAMES,
  inspectWasm,
  loadManifest,
  parseManifest,
  type PluginManifest,
  Sandbox,
  SandboxError,
} from "../../sandboxes/mod.ts";
import { sha256Hex } from "../../runtime/mod.ts";
import { defineCommand, JSON_FLAG, LEDGER_FLAG } from "../command.ts";

const USAGE = `Usage: deno task plugin new NAME [--dir DIR]
       deno task plugin build DIR [--json]
       deno task plugin run FILE FUNCTION [INPUT] [--timeout-ms N] [--fuel N] [--max-memory-pages N]
                            [--allow-host H]... [--config k=v]... [--grant FN[:RESOURCE]]...
                            [--policy FILE]... [--ledger PATH] [--json]
       deno task plugin inspect FILE [--json]

new       scaffolds an AssemblyScript plugin agent in DIR/NAME (default DIR: plugins)
build     compiles DIR/assembly/index.ts (or DIR/plugin.wat) to the wasm its manifest names,
          records its SHA-256 in the manifest, and reports compile errors as file:line:col
run       calls FUNCTION of any Extism plugin (FILE is a .wasm or a manifest.json) with INPUT
          (text; "-" reads stdin) in a sandbox, and prints its output. Exits 1 with the
          plugin's error or the limit it hit.
inspect   lists a plugin's exports, imports, memory and SHA-256

Options for run (flags override the manifest's limits):
  --timeout-ms N          time limit of the call (default 1000)
  --fuel N                function calls and loop iterations the call may make before it
                          stops itself (default 100,000 per millisecond of the time limit)
  --max-memory-pages N    memory cap in 64 KiB pages (default 256)
  --allow-host H          a host http_fetch may reach (repeatable)
  --config k=v            plugin configuration (repeatable)
  --grant FN[:RESOURCE]   allow a host function, e.g. kv_get or emit:topic:** (repeatable;
                          log is always granted). Host functions: ${HOST_FUNCTION_NAMES.join(", ")}
  --policy FILE           decide host calls by a policy file instead of grants (repeatable)
  --ledger PATH           ledger for sql and kv state (default .troupe/ledger.duckdb;
                          opened only when the plugin imports them)
  --json                  print results as JSON
  -h, --help              show this help`;

async function manifestFor(file: string): Promise<PluginManifest> {
  if (/\.(json|ya?ml)$/i.test(file)) return await loadManifest(file);
  let wasm: Uint8Array;
  try {
    wasm = await Deno.readFile(file);
  } catch (err) {
    throw new SandboxError("invalid_wasm", `cannot read ${file}: ${(err as Error).message}`);
  }
  // A bare module requests whatever troupe functions it imports; grants still decide each call.
  const shape = await inspectWasm(wasm, basename(file));
  const requested = shape.imports.filter((i) => i.module === "troupe").map((i) => i.name);
  const name = basename(file).replace(/\.wasm$/i, "").toLowerCase().replace(/[^a-z0-9._-]/g, "-");
  return parseManifest(
    { name: /^[a-z0-9]/.test(name) ? name : `p-${name}`, wasm: file, hostFunctions: requested },
    file,
  );
}

function positiveInt(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) {
    throw new SandboxError(
      "invalid_manifest",
      `${flag} must be a positive integer, not "${value}"`,
    );
  }
  return n;
}

export const plugin = defineCommand({
  name: "plugin",
  summary: "scaffold, build, run and inspect WASM plugins",
  usage: USAGE,
  flags: {
    json: JSON_FLAG,
    dir: { type: "string", default: "plugins" },
    "timeout-ms": { type: "string" },
    fuel: { type: "string" },
    "max-memory-pages": { type: "string" },
    "allow-host": { type: "string", multiple: true, default: [] },
    config: { type: "string", multiple: true, default: [] },
    grant: { type: "string", multiple: true, default: [] },
    policy: { type: "string", multiple: true, default: [] },
    ledger: LEDGER_FLAG,
  },
  async run(flags, [sub, ...args], fail) {
    const print = (data: unknown, text: string) =>
      console.log(flags.json ? JSON.stringify(data, null, 2) : text);
    switch (sub) {
      case "new": {
        if (args.length !== 1) return fail("new needs a NAME");
        const dir = await scaffoldPlugin(args[0], flags.dir);
        print({ dir }, `created ${dir}; build it with: deno task plugin build ${dir}`);
        return 0;
      }
      case "build": {
        if (args.length !== 1) return fail("build needs a DIR");
        if (!flags.json) console.error(`building ${args[0]} …`);
        const r = await buildPlugin(args[0]);
        const warnings = r.diagnostics.map((d) =>
          `${d.category}: ${d.file}:${d.line}:${d.column}: ${d.message}`
        );
        print(
          r,
          [...warnings, `built ${r.wasm} (${r.bytes} bytes, sha256 ${r.sha256})`].join("\n"),
        );
        return 0;
      }
      case "inspect": {
        if (args.length !== 1) return fail("inspect needs a FILE");
        const m = await manifestFor(args[0]);
        const bytes = await Deno.readFile(m.wasm);
        const shape = await inspectWasm(bytes, m.name);
        const info = {
          file: m.wasm,
          bytes: bytes.length,
          sha256: sha256Hex(bytes),
          exports: shape.exports.map((e) => ({ name: e.name, kind: e.kind })),
          imports: shape.imports.map((i) => ({ module: i.module, name: i.name, kind: i.kind })),
        };
        print(
          info,
          [
            `${info.file}: ${info.bytes} bytes, sha256 ${info.sha256}`,
            "exports:",
            ...info.exports.map((e) => `  ${e.name} (${e.kind})`),
            "imports:",
            ...info.imports.map((i) => `  ${i.module}::${i.name} (${i.kind})`),
          ].join("\n"),
        );
        return 0;
      }
      case "run": {
        if (args.length < 2 || args.length > 3) return fail("run needs FILE FUNCTION [INPUT]");
        const [file, fn, rawInput = ""] = args;
        const base = await manifestFor(file);
        const config = { ...base.config };
        for (const kv of flags.config) {
          const at = kv.indexOf("=");
          if (at <= 0) return fail(`--config needs key=value, not "${kv}"`);
          config[kv.slice(0, at)] = kv.slice(at + 1);
        }
        const manifest = parseManifest({
          ...base,
          config,
          limits: {
            ...base.limits,
            timeoutMs: positiveInt(flags["timeout-ms"], "--timeout-ms") ?? base.limits.timeoutMs,
            ...(flags.fuel ? { fuel: positiveInt(flags.fuel, "--fuel") } : {}),
            memoryPages: positiveInt(flags["max-memory-pages"], "--max-memory-pages") ??
              base.limits.memoryPages,
            allowedHosts: [...base.limits.allowedHosts, ...flags["allow-host"]],
          },
        }, file);
        const sets: PolicySetInput[] = flags.policy.length > 0
          ? await Promise.all(flags.policy.map(loadPolicyFile))
          : [grantPolicy(manifest.name, ["log", ...flags.grant])];
        const needsLedger = manifest.hostFunctions.some((f) =>
          ["sql", "kv_get", "kv_set"].includes(f)
        );
        const ledger = needsLedger ? await Ledger.open(flags.ledger) : undefined;
        const input = rawInput === "-" ? await new Response(Deno.stdin.readable).bytes() : rawInput;
        let sandbox: Sandbox | undefined;
        try {
          const host = await createPluginHost({
            actor: manifest.name,
            limits: manifest.limits,
            policy: new PolicyEngine(sets),
            ledger,
            log: (level, text) => console.error(`[${manifest.name}] ${level}: ${text}`),
          });
          sandbox = await Sandbox.create(manifest, {
            host,
            onLog: (level, text) => console.error(`[${manifest.name}] ${level}: ${text}`),
          });
          const t0 = performance.now();
          let result;
          try {
            result = await sandbox.call(fn, input);
          } catch (err) {
            if (!(err instanceof SandboxError) || !flags.json) throw err;
            print({ ok: false, error: { kind: err.kind, message: err.message } }, "");
            return 1;
          }
          const ms = Math.round((performance.now() - t0) * 1000) / 1000;
          if (flags.json) {
            let output: unknown = result.text();
            try {
              output = result.json();
            } catch { /* not JSON: keep the text */ }
            print({ ok: true, output, bytes: result.bytes?.length ?? 0, ms }, "");
          } else if (result.bytes) {
            await Deno.stdout.write(result.bytes);
            if (Deno.stdout.isTerminal()) console.log();
          }
          return 0;
        } finally {
          sandbox?.close();
          await ledger?.close();
        }
      }
      default:
        return fail(
          sub ? `unknown subcommand "${sub}"` : "which subcommand: new, build, run, inspect?",
        );
    }
  },
});
