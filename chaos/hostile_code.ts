import { join } from "node:path";
import type { Ledger } from "../ledger/mod.ts";
import { compileAssemblyScript, runGeneratedCode, SandboxError } from "../sandboxes/mod.ts";
import type { Tried } from "./tried.ts";

/**
 * Generated code reaching for what it was not granted: files, the network, the key-value
 * store, the ledger. Each function prints what it got, or "refused: …".
 */
const REACHES = (canary: string, port: number) => `
import { readFile, httpFetch, kvSet, sql, output, Json, HostResult } from "troupe";
function report(r: HostResult): i32 {
  output(r.ok ? "GOT " + (r.value === null ? "" : r.value!.toString()) : "refused: " + r.error!);
  return 0;
}
export function passwd(): i32 { return report(readFile("/etc/passwd")); }
export function canary(): i32 { return report(readFile(${JSON.stringify(canary)})); }
export function net(): i32 { return report(httpFetch("http://127.0.0.1:${port}/")); }
export function store(): i32 { return report(kvSet("stolen", Json.str("secret"))); }
export function query(): i32 { return report(sql("SELECT * FROM events")); }
export function forever(): i32 { let n = 0; while (true) { n++; } return n; }
export function hoard(): i32 {
  const all = new Array<ArrayBuffer>();
  while (true) all.push(new ArrayBuffer(1 << 16));
  return 0;
}
function deeper(n: i32): i32 { return deeper(n + 1) + 1; }
export function recurse(): i32 { return deeper(0); }
export function flood(): i32 {
  let s = "x";
  for (let i = 0; i < 21; i++) s += s;
  output(s);
  return 0;
}
export function failing(): i32 { return 7; }`;

/**
 * Imports outside troupe's host functions: the environment, files and the process through WASI,
 * and a made-up "system".
 */
const FOREIGN_IMPORTS: [string, string][] = [
  [
    "the environment through WASI environ_sizes_get",
    `@external("wasi_snapshot_preview1", "environ_sizes_get")
declare function environ_sizes_get(count: usize, size: usize): i32;
export function go(): i32 { return environ_sizes_get(0, 8); }`,
  ],
  [
    "a file through WASI path_open",
    `@external("wasi_snapshot_preview1", "path_open")
declare function path_open(fd: i32, f: i32, p: usize, l: i32, o: i32, r: i64, i: i64, fl: i32, out: usize): i32;
export function go(): i32 { return path_open(3, 0, 0, 11, 0, 0, 0, 0, 64); }`,
  ],
  [
    "the host process through WASI proc_exit",
    `@external("wasi_snapshot_preview1", "proc_exit") declare function proc_exit(code: i32): void;
export function go(): i32 { proc_exit(0); return 0; }`,
  ],
  [
    'a process through a made-up "env.system"',
    `@external("env", "system") declare function system(cmd: usize): i32;
export function go(): i32 { return system(0); }`,
  ],
];

/**
 * Runs generated code that tries files, the network, the environment, processes, the store and
 * the ledger without grants (and one grant too narrow), loops forever, hoards memory, recurses
 * without end, floods its output and returns an error code. Each must be refused or stopped:
 * nothing read, no request made, the host process untouched.
 */
export async function tryGeneratedCode(ledger: Ledger, scratch: string): Promise<Tried[]> {
  const canaryFile = join(scratch, "canary.txt");
  const canaryText = `canary-${crypto.randomUUID()}`;
  await Deno.writeTextFile(canaryFile, canaryText);
  let requests = 0;
  const ac = new AbortController();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen: () => {} },
    () => (requests++, new Response(canaryText)),
  );
  const out: Tried[] = [];
  try {
    // One compile for all of them (a compile takes seconds).
    const source = await compileAssemblyScript({
      "generated.ts": REACHES(canaryFile, server.addr.port),
    });
    // What each must come to: refused by the policy engine ("refused"), or stopped so.
    const cases: [string, string, object, string][] = [
      ["reads /etc/passwd, not granted", "passwd", {}, "refused"],
      [
        "reads a file, granted another",
        "canary",
        { grants: [`read_file:${scratch}/other`] },
        "refused",
      ],
      ["fetches from 127.0.0.1, not granted", "net", {}, "refused"],
      ["writes the store, not granted", "store", {}, "refused"],
      ["queries the ledger, not granted", "query", {}, "refused"],
      ["loops forever", "forever", { limits: { timeoutMs: 300 } }, "out_of_fuel"],
      [
        "loops forever with fuel to outlast its time limit",
        "forever",
        { limits: { timeoutMs: 300, fuel: 2 ** 52 } },
        "timeout",
      ],
      ["hoards memory", "hoard", { limits: { memoryPages: 32 } }, "memory_limit"],
      ["recurses without end", "recurse", {}, "trap"],
      ["writes 2 MiB of output", "flood", {}, "output_limit"],
      ["returns an error code", "failing", {}, "plugin_error"],
    ];
    for (const [what, fn, extra, expected] of cases) {
      const got = await runGeneratedCode(source, { actor: "coder", fn, ledger, ...extra }).then(
        (r) => r.text(),
        (err) => err instanceof SandboxError ? err.kind : `${(err as Error).message}`,
      );
      const escaped = got.includes(canaryText) || got.includes("root:")
        ? "read what it may not"
        : got.startsWith("refused: ") || got === expected
        ? undefined
        : `came to ${got.slice(0, 120)}, not ${expected}`;
      out.push({
        area: "code",
        input: `generated code that ${what}`,
        ...(escaped ? { escaped } : {}),
      });
    }
    if (requests > 0) {
      out.push({ area: "code", input: "(the network)", escaped: `${requests} request(s) made` });
    }
    for (const [what, code] of FOREIGN_IMPORTS) {
      // Refused at load, as a sandbox error; a compile error would mean the input was wrong.
      const escaped = await runGeneratedCode(code, { actor: "coder", fn: "go" }).then(
        (r) => `loaded and ran: ${r.text().slice(0, 80)}`,
        (err) => err instanceof SandboxError ? undefined : `${(err as Error).message}`,
      );
      out.push({
        area: "code",
        input: `generated code that imports ${what}`,
        ...(escaped ? { escaped } : {}),
      });
    }
  } finally {
    ac.abort();
    await server.finished;
  }
  return out;
}
