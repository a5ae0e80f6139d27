import { TroupeError } from "../runtime/errors.ts";
import { noPermissions } from "./no_permissions.ts";
import type { CompileReply, CompileRequest, Diagnostic } from "./compiler_worker.ts";

export type { Diagnostic };

const WORKER = new URL("./compiler_worker.ts", import.meta.url);
const WORKER_MAIN = "data:text/javascript," +
  encodeURIComponent(`import ${JSON.stringify(WORKER.href)};`);
const KIT_DIR = new URL("../plugins/kit/assembly/", import.meta.url);
const PDK_DIR = new URL(import.meta.resolve("@extism/as-pdk"));

/** AssemblyScript that did not compile, with each diagnostic's file, line, column, code and message. */
export class CompileError extends TroupeError<"compile_error"> {
  constructor(readonly diagnostics: Diagnostic[], message: string) {
    super(
      "compile_error",
      `${message}\n${
        diagnostics.filter((d) => d.category === "error").map((d) =>
          `  ${d.file}:${d.line}:${d.column}: AS${d.code}: ${d.message}`
        ).join("\n")
      }`,
    );
    this.name = "CompileError";
  }
}

async function readTree(dir: URL, prefix = ""): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isDirectory && !entry.name.startsWith(".")) {
      Object.assign(
        files,
        await readTree(new URL(`${entry.name}/`, dir), `${prefix}${entry.name}/`),
      );
    } else if (entry.isFile && entry.name.endsWith(".ts")) {
      files[prefix + entry.name] = await Deno.readTextFile(new URL(entry.name, dir));
    }
  }
  return files;
}

let libraries: Promise<CompileRequest["libraries"]> | undefined;

/**
 * Compiles AssemblyScript sources (with troupe's kit importable as "troupe") to an Extism
 * plugin. The compiler runs in a worker with no permissions and a time limit; errors come back
 * as diagnostics with file, line and column.
 */
export async function compileAssemblyScript(
  sources: Record<string, string>,
  options: { entry?: string; optimize?: boolean; timeoutMs?: number } = {},
): Promise<{ wasm: Uint8Array; diagnostics: Diagnostic[] }> {
  libraries ??= Promise.all([readTree(KIT_DIR), readTree(new URL("./", PDK_DIR))]).then((
    [kit, pdk],
  ) => ({ "troupe": kit, "@extism/as-pdk": pdk }));
  const entry = options.entry ?? Object.keys(sources)[0];
  if (!(entry in sources)) throw new CompileError([], `no source named ${entry}`);
  // The kit's abort handler must be linked even when the entry does not import the kit; an
  // import at the end keeps the entry's line numbers.
  sources = { ...sources, [entry]: `${sources[entry]}\nimport "troupe";\n` };
  const request: CompileRequest = {
    entry,
    sources,
    libraries: await libraries,
    args: [
      "--runtime",
      "stub",
      "--exportRuntime",
      "--use",
      "abort=~lib/troupe/index/troupeAbort",
      ...(options.optimize === false ? [] : ["--optimizeLevel", "2", "--shrinkLevel", "1"]),
    ],
  };
  const worker = new Worker(WORKER_MAIN, {
    type: "module",
    name: "assemblyscript-compiler",
    // The compiler's terminal helper checks for "CI" when it loads.
    deno: { permissions: noPermissions(["CI"]) },
  });
  const timeoutMs = options.timeoutMs ?? 60_000;
  try {
    const reply = await new Promise<CompileReply>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new CompileError([], `compiling ${entry} took longer than ${timeoutMs} ms`)),
        timeoutMs,
      );
      worker.onmessage = (e) => {
        if (e.data?.ready) return worker.postMessage(request);
        clearTimeout(timer);
        resolve(e.data);
      };
      worker.onerror = (e) => {
        e.preventDefault();
        clearTimeout(timer);
        reject(new CompileError([], `the compiler failed: ${e.message}`));
      };
    });
    if (!reply.ok) {
      const errors = reply.diagnostics.some((d) => d.category === "error");
      throw new CompileError(
        reply.diagnostics,
        errors ? `${entry} does not compile` : `${entry} does not compile: ${reply.message}`,
      );
    }
    return { wasm: reply.wasm, diagnostics: reply.diagnostics };
  } finally {
    worker.terminate();
  }
}
