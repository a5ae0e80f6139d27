import type { Project, ScanResult } from "../../tasks/repo_facts.ts";
import type { Detector } from "./detector_type.ts";
import { inDir } from "./paths.ts";

function denoConfig(scan: ScanResult, manifest: string): { tasks?: unknown; workspace?: unknown } {
  try {
    return JSON.parse(scan.keyFiles[manifest] ?? "{}") ?? {};
  } catch {
    return {}; // deno.jsonc with comments: fall back to plain `deno test`
  }
}

/** A Deno project; a `workspace` root tests its members with it, as one job. */
function deno(dir: string, scan: ScanResult, manifest: string): Project {
  const config = denoConfig(scan, manifest);
  const tasks = (config.tasks ?? {}) as Record<string, unknown>;
  const members = Array.isArray(config.workspace)
    ? config.workspace.filter((m) => typeof m === "string").map((m) =>
      inDir(dir, m.replace(/^\.\//, "").replace(/\/$/, ""))
    )
    : [];
  return {
    type: "deno",
    dir,
    manifest,
    // A project's own test task knows its permissions; `deno test -A` is the fallback.
    test: tasks.test ? "deno task test" : "deno test -A",
    testFramework: "deno test",
    ...(members.length ? { members } : {}),
  };
}

/** Deno's manifests. */
export const denoManifests: Record<string, Detector> = { "deno.json": deno, "deno.jsonc": deno };
