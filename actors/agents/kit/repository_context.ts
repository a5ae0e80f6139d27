import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { ScanResult } from "../../tasks/repo_facts.ts";

/** How much of the repository the model is shown. */
const CONTEXT_BYTES = 60_000;
const FILE_BYTES = 12_000;

/** The repository as the model sees it: every path, and the text of the smaller source files. */
export async function repositoryContext(root: string, scan: ScanResult): Promise<string> {
  const parts = [`Files:\n${scan.files.map((f) => f.path).join("\n")}`];
  let budget = CONTEXT_BYTES;
  const texts = scan.files
    .filter((f) =>
      !f.binary && f.size <= FILE_BYTES && (f.language || /\.(json|md|toml|ya?ml)$/.test(f.path))
    )
    .sort((a, b) => a.size - b.size);
  for (const f of texts) {
    if (f.size > budget) continue;
    const text = await readFile(join(root, f.path), "utf8").catch(() => null);
    if (text === null) continue;
    budget -= f.size;
    parts.push(`--- ${f.path}\n${text}`);
  }
  return parts.join("\n\n");
}
