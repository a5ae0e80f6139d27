import { type AgentTemplateInput, sha256Hex } from "../../runtime/mod.ts";

/**
 * Each agent's code version: the SHA-256 (first 12 hex digits) of its module and of every module
 * of troupe it imports, directly or not (relative imports; npm packages are pinned in deno.json).
 * A run records them, so `replay --verify` can say whose code changed since.
 */
export async function agentVersions(
  templates: AgentTemplateInput[],
): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const t of templates) {
    if (typeof t.behaviour !== "string" || !t.behaviour.startsWith("file:")) continue;
    out[t.name] = await moduleVersion(t.behaviour);
  }
  return out;
}

const versions = new Map<string, Promise<string>>();

/** The version of a module and what it imports (cached: code does not change under a process). */
export function moduleVersion(url: string): Promise<string> {
  let v = versions.get(url);
  if (!v) {
    v = hashGraph(url);
    versions.set(url, v);
  }
  return v;
}

// Relative static and dynamic imports and re-exports; a regex, as the graph is only hashed.
const IMPORT = /(?:from\s+|import\s*\(\s*|import\s+)["'](\.{1,2}\/[^"']+)["']/g;

async function hashGraph(root: string): Promise<string> {
  const seen = new Map<string, string>();
  const queue = [root];
  while (queue.length > 0) {
    const url = queue.pop()!;
    if (seen.has(url)) continue;
    const text = await Deno.readTextFile(new URL(url)).catch(() => "");
    seen.set(url, text);
    for (const m of text.matchAll(IMPORT)) queue.push(new URL(m[1], url).href);
  }
  // By content only, so the same code checked out elsewhere has the same version.
  const each = [...seen.values()].map((text) => sha256Hex(text));
  return sha256Hex(each.sort().join("\n")).slice(0, 12);
}
