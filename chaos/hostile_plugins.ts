import { parseManifest, Sandbox } from "../sandboxes/mod.ts";
import { watToWasm } from "../sandboxes/wat.ts";
import type { Tried } from "./tried.ts";

/** Plugins that loop, hoard memory, trap, recurse, flood output, fail, or ask for what they lack. */
const HOSTILE_WAT = `(module
  (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
  (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))
  (memory (export "memory") 1)
  (func (export "spin") (result i32) (loop $l (br $l)) (i32.const 0))
  (func (export "grow") (result i32)
    (loop $l (br_if $l (i32.ne (memory.grow (i32.const 16)) (i32.const -1))))
    ;; Growth stopped: at its cap (64 pages), returning 0, or past it, returning 1.
    (i32.gt_u (memory.size) (i32.const 64)))
  (func (export "trap") (result i32) unreachable)
  (func $deep (param i32) (result i32) (call $deep (i32.add (local.get 0) (i32.const 1))))
  (func (export "recurse") (result i32) (call $deep (i32.const 0)))
  (func (export "flood") (result i32)
    (call $output_set (call $alloc (i64.const 200000000)) (i64.const 200000000)) (i32.const 0))
  (func (export "fail") (result i32) (i32.const 7))
  (func (export "ok") (result i32) (i32.const 0)))`;

const UNKNOWN_IMPORT = `(module
  (import "env" "launch_missiles" (func $launch (result i32)))
  (func (export "go") (result i32) (call $launch)))`;

const WANTS_HOST = `(module
  (import "extism:host/user" "troupe_read_file" (func $read (param i64) (result i64)))
  (memory (export "memory") 1)
  (func (export "go") (result i32) (drop (call $read (i64.const 0))) (i32.const 0)))`;

export async function tryPlugins(): Promise<Tried[]> {
  const out: Tried[] = [];
  const manifest = (name: string, extra = {}) =>
    parseManifest({
      name,
      wasm: `${name}.wasm`,
      limits: { timeoutMs: 500, memoryPages: 64 },
      ...extra,
    });
  const wasm = await watToWasm(HOSTILE_WAT, "hostile.wat");
  const sandbox = await Sandbox.create(manifest("hostile"), { wasm });
  try {
    for (const fn of ["spin", "grow", "trap", "recurse", "flood", "fail", "missing"]) {
      let escaped: string | undefined;
      try {
        await sandbox.call(fn);
        // Growing memory may end quietly at the cap; everything else must fail.
        if (fn !== "grow") escaped = "returned instead of failing";
      } catch (err) {
        if (fn === "grow" && /returned 1/.test((err as Error).message)) {
          escaped = "grew past its memory cap";
        }
      }
      out.push({
        area: "plugin",
        input: `an export that does "${fn}"`,
        ...(escaped ? { escaped } : {}),
      });
    }
    // After all of that the sandbox still serves a good call.
    const ok = await sandbox.call("ok").then(() => true, () => false);
    if (!ok) {
      out.push({ area: "plugin", input: "(after all)", escaped: "the sandbox no longer serves" });
    }
  } finally {
    await sandbox.close();
  }
  const refusedAtLoad: [string, Promise<Uint8Array>, object][] = [
    ["malformed wasm", Promise.resolve(new TextEncoder().encode("not wasm at all")), {}],
    ["truncated wasm", Promise.resolve(wasm.slice(0, Math.floor(wasm.length / 2))), {}],
    ["an empty file", Promise.resolve(new Uint8Array()), {}],
    ["an unknown import", watToWasm(UNKNOWN_IMPORT, "unknown.wat"), {}],
    ["a host function it was not granted", watToWasm(WANTS_HOST, "host.wat"), {}],
    ["a manifest whose hash does not match", Promise.resolve(wasm), { sha256: "0".repeat(64) }],
  ];
  for (const [what, bytes, extra] of refusedAtLoad) {
    let escaped: string | undefined;
    try {
      const sb = await Sandbox.create(manifest("refused", extra), { wasm: await bytes });
      const r = await sb.call("go").then(() => "ran", () => "failed");
      await sb.close();
      if (r === "ran") escaped = "loaded and ran";
    } catch { /* refused, as promised */ }
    out.push({ area: "plugin", input: what, ...(escaped ? { escaped } : {}) });
  }
  for (
    const bad of [{ name: "UPPER", wasm: "x.wasm" }, { name: "x" }, {
      name: "x",
      wasm: "x.wasm",
      limits: { timeoutMs: -1 },
    }, { name: "x", wasm: "x.wasm", hostFunctions: ["launch"] }]
  ) {
    let escaped: string | undefined;
    try {
      parseManifest(bad);
      escaped = "accepted";
    } catch { /* refused, as promised */ }
    out.push({
      area: "plugin",
      input: `manifest ${JSON.stringify(bad)}`,
      ...(escaped ? { escaped } : {}),
    });
  }
  return out;
}
