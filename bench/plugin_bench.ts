/**
 * Plugin costs, each next to a baseline from the same run: a trivial function called through
 * Extism in a sandbox (a process of its own, the default, and a worker thread) vs the same
 * function as a raw WebAssembly call; cold start of each vs compiling and instantiating the
 * module; asks to a plugin agent vs an inline actor.
 */
import createPlugin from "@extism/extism";
import { pluginActor } from "../plugins/plugin_actor.ts";
import { ActorSystem, defineActor } from "../runtime/mod.ts";
import { parseManifest, Sandbox } from "../sandboxes/mod.ts";
import { watToWasm } from "../sandboxes/wat.ts";
import type { Section } from "./figure.ts";

let N = Number(Deno.env.get("BENCH_PLUGIN_N") ?? 5000);
let COLD = 20;

// `handle` answers every message with {"reply": 1}; `noop` does nothing.
const WAT = `(module
  (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
  (import "extism:host/env" "store_u8" (func $store_u8 (param i64 i32)))
  (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))
  (memory (export "memory") 1)
  (data (i32.const 0) "{\\"reply\\":1}")
  (func (export "noop") (result i32) (i32.const 0))
  (func (export "handle") (result i32)
    (local $out i64) (local $i i32)
    (local.set $out (call $alloc (i64.const 11)))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (i32.const 11)))
      (call $store_u8 (i64.add (local.get $out) (i64.extend_i32_u (local.get $i)))
        (i32.load8_u (local.get $i)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next)))
    (call $output_set (local.get $out) (i64.const 11))
    (i32.const 0)))`;

async function timeEach(n: number, fn: () => unknown): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < n; i++) await fn();
  return ((performance.now() - start) * 1000) / n; // µs per call
}

/** The plugin figures; `quick`: tiny sizes, to show it still runs. */
export async function benchPlugins(quick = false): Promise<Section> {
  if (quick) [N, COLD] = [50, 2];
  const wasm = await watToWasm(WAT);
  const manifest = parseManifest({ name: "bench", wasm: "bench.wasm" });

  const module = await WebAssembly.compile(wasm as Uint8Array<ArrayBuffer>);
  const stub = () => 0n;
  const imports = { "extism:host/env": { alloc: stub, store_u8: () => {}, output_set: () => {} } };
  const instance = await WebAssembly.instantiate(module, imports);
  const noop = instance.exports.noop as () => number;
  const raw = await timeEach(N * 20, () => noop());

  const direct = await createPlugin({ wasm: [{ data: wasm }] }, { useWasi: false });
  const inThread = await timeEach(N, () => direct.call("noop"));
  await direct.close();

  const sandbox = await Sandbox.create(manifest, { wasm, isolation: "thread" });
  await sandbox.call("noop");
  const sandboxed = await timeEach(N, () => sandbox.call("noop"));
  sandbox.close();
  const inProcess = await Sandbox.create(manifest, { wasm });
  await inProcess.call("noop");
  const processCall = await timeEach(N, () => inProcess.call("noop"));
  inProcess.close();

  const compileMs = (await timeEach(COLD, async () => {
    await WebAssembly.instantiate(
      await WebAssembly.compile(wasm as Uint8Array<ArrayBuffer>),
      imports,
    );
  })) / 1000;
  const coldMs = (await timeEach(COLD, async () => {
    (await Sandbox.create(manifest, { wasm, isolation: "thread" })).close();
  })) / 1000;
  const coldProcessMs = (await timeEach(Math.ceil(COLD / 4), async () => {
    (await Sandbox.create(manifest, { wasm })).close();
  })) / 1000;

  const dir = await Deno.makeTempDir({ prefix: "troupe-bench-plugin-" });
  try {
    await using system = await ActorSystem.start();
    const inline = await system.spawn({
      id: "inline",
      isolation: "inline",
      behaviour: defineActor({ receive: () => 1 }),
      observeMessages: false,
    });
    await Deno.writeFile(`${dir}/bench.wasm`, wasm);
    const agent = await system.spawn({
      ...pluginActor({ id: "agent", manifest: { ...manifest, wasm: `${dir}/bench.wasm` } }),
      observeMessages: false,
    });
    await agent.ask({});
    const inlineRate = 1e6 / await timeEach(N, () => inline.ask({}));
    const agentRate = 1e6 / await timeEach(N, () => agent.ask({}));
    return {
      figures: [
        { name: "plugin call: raw WebAssembly call", value: raw, unit: "µs" },
        {
          name: "plugin call: Extism on the calling thread, no limits",
          value: inThread,
          unit: "µs",
        },
        { name: "plugin call: troupe sandbox (own worker, limits)", value: sandboxed, unit: "µs" },
        {
          name: "plugin call: troupe sandbox, over a raw call",
          value: sandboxed - raw,
          unit: "µs",
          target: "≤ 20",
        },
        {
          name: "plugin call: troupe sandbox (own process, the default)",
          value: processCall,
          unit: "µs",
        },
        { name: "plugin start: compile + instantiate", value: compileMs, unit: "ms" },
        { name: "plugin start: troupe sandbox (worker + plugin)", value: coldMs, unit: "ms" },
        {
          name: "plugin start: troupe sandbox (process + plugin)",
          value: coldProcessMs,
          unit: "ms",
        },
        { name: "plugin asks: inline actor", value: inlineRate },
        { name: "plugin asks: troupe plugin agent", value: agentRate, target: "≥ 30,000" },
      ],
      ratios: [
        [
          "plugin call: troupe sandbox (own worker, limits)",
          "plugin call: raw WebAssembly call",
          "",
        ],
        [
          "plugin call: troupe sandbox (own process, the default)",
          "plugin call: troupe sandbox (own worker, limits)",
          "",
        ],
        [
          "plugin start: troupe sandbox (worker + plugin)",
          "plugin start: compile + instantiate",
          "",
        ],
      ],
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
