import { applyPatch, parsePatch } from "diff";
import { readFile } from "node:fs/promises";
import { dirname, join, normalize } from "node:path";
import type { GeneratedFile } from "../../tasks/repo_facts.ts";

/**
 * The unified diff in a model's answer: a ```diff block, or the answer itself. Only blank lines
 * before it and line ends after it go: a last context line is a single space, and is kept.
 */
export function extractPatch(text: string): string {
  const fenced = text.match(/```(?:diff|patch)?[ \t]*\n([\s\S]*?)```/);
  return (fenced ? fenced[1] : text).replace(/^(?:[ \t]*\n)+/, "").replace(/\n+$/, "") + "\n";
}

const stripPrefix = (name: string | undefined) =>
  !name || name === "/dev/null" ? null : name.replace(/^[ab]\//, "").replace(/\t.*$/, "");

/**
 * Applies a unified diff to the tree at `root` and returns the files it changed. Refuses paths
 * outside the tree and hunks that do not fit, naming the file.
 */
export async function applyUnifiedDiff(
  root: string,
  patch: string,
  reason = "the coder's change, tested on a scratch copy",
): Promise<GeneratedFile[]> {
  const files: GeneratedFile[] = [];
  const parsed = parsePatch(patch);
  if (parsed.length === 0 || parsed.every((p) => p.hunks.length === 0)) {
    throw new Error("the answer holds no unified diff (--- a/FILE, +++ b/FILE, @@ hunks)");
  }
  for (const p of parsed) {
    if (p.hunks.length === 0) continue;
    const target = stripPrefix(p.newFileName) ?? stripPrefix(p.oldFileName);
    if (!target) throw new Error("a file in the diff has no name");
    const rel = normalize(target);
    if (rel.startsWith("..") || rel.startsWith("/") || rel.split("/").includes(".git")) {
      throw new Error(`the diff writes outside the repository: ${target}`);
    }
    if (stripPrefix(p.newFileName) === null) {
      throw new Error(`${target}: deleting files is not supported; change it instead`);
    }
    const path = join(root, rel);
    const existed = stripPrefix(p.oldFileName) !== null;
    const before = existed ? await readFile(path, "utf8").catch(() => null) : "";
    if (before === null) throw new Error(`${rel}: the diff changes a file that does not exist`);
    const after = applyPatch(before, p);
    if (after === false) {
      throw new Error(`${rel}: a hunk of the diff does not match the file's current text`);
    }
    await Deno.mkdir(dirname(path), { recursive: true });
    await Deno.writeTextFile(path, after);
    files.push({
      path: rel,
      content: after,
      mode: existed ? "replace" : "create",
      reason,
    });
  }
  return files;
}
