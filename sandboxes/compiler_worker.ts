/// <reference lib="deno.worker" />
/**
 * Compiles AssemblyScript in a worker with no permissions: every file it may read is handed
 * to it, and the module comes back as bytes.
 */
import asc from "assemblyscript/asc";

export interface CompileRequest {
  entry: string;
  /** User sources by relative path. */
  sources: Record<string, string>;
  /** Library files by package ("troupe", "@extism/as-pdk") and path inside it. */
  libraries: Record<string, Record<string, string>>;
  args: string[];
}

/** One message of the AssemblyScript compiler, with where it points. */
export interface Diagnostic {
  file: string;
  line: number;
  column: number;
  code: number;
  category: "error" | "warning" | "info";
  message: string;
}

export type CompileReply =
  | { ok: true; wasm: Uint8Array; diagnostics: Diagnostic[] }
  | { ok: false; diagnostics: Diagnostic[]; message: string };

function position(text: string, at: number): { line: number; column: number } {
  const before = text.slice(0, at);
  const line = before.split("\n").length;
  return { line, column: at - before.lastIndexOf("\n") };
}

function resolveFile(req: CompileRequest, name: string): string | null {
  if (name in req.sources) return req.sources[name];
  for (const [pkg, files] of Object.entries(req.libraries)) {
    // The compiler probes nested node_modules paths; the part after the last package name counts.
    const at = name.lastIndexOf(`node_modules/${pkg}/`);
    if (at >= 0) return files[name.slice(at + `node_modules/${pkg}/`.length)] ?? null;
  }
  return null;
}

self.onmessage = async (e: MessageEvent<CompileRequest>) => {
  const req = e.data;
  const diagnostics: Diagnostic[] = [];
  const outputs: Record<string, Uint8Array | string> = {};
  const stderr: string[] = [];
  try {
    const result = await asc.main([req.entry, "--outFile", "out.wasm", ...req.args], {
      readFile: (name: string) => resolveFile(req, name),
      writeFile: (name: string, data: Uint8Array | string) => void (outputs[name] = data),
      listFiles: () => [],
      stderr: { write: (s: string | Uint8Array) => void stderr.push(String(s)) } as never,
      stdout: { write: () => {} } as never,
      reportDiagnostic: (d) => {
        // The reported range carries only the file's path; its text is ours.
        const file = (d.range?.source as { normalizedPath?: string } | undefined)?.normalizedPath;
        const text = file ? resolveFile(req, file.replace(/^~lib\//, "node_modules/")) : null;
        const at = text !== null ? position(text, d.range!.start) : { line: 0, column: 0 };
        diagnostics.push({
          file: file ?? "",
          ...at,
          code: d.code,
          category: (["info", "info", "warning", "error"] as const)[d.category] ?? "error",
          message: d.message,
        });
      },
    });
    const wasm = outputs["out.wasm"];
    if (result.error || !(wasm instanceof Uint8Array)) {
      self.postMessage(
        {
          ok: false,
          diagnostics,
          message: result.error?.message ?? (stderr.join("") || "no output"),
        } satisfies CompileReply,
      );
    } else {
      self.postMessage({ ok: true, wasm, diagnostics } satisfies CompileReply);
    }
  } catch (err) {
    self.postMessage({ ok: false, diagnostics, message: String(err) } satisfies CompileReply);
  }
};

// asc loads with top-level await; a message sent before this line runs would be lost.
self.postMessage({ ready: true });
