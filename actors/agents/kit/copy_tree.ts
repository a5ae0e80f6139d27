import { join } from "node:path";
import { pinned, stablePath } from "../../../runtime/effects.ts";
import { sha256Hex } from "../../../runtime/sha256.ts";

/**
 * Copies a tree without `.git`, pinned in the task's effect log by the list of what it copied
 * (so a replay finds a repository that changed since). Written here because node's `cp` looks
 * at the destination's parent folders, which a coder may not read: it may touch only the
 * repository and its scratch.
 */
export function copyTree(from: string, to: string): Promise<void> {
  return pinned("fs.copy", `${stablePath(from)} -> ${stablePath(to)}`, async () => {
    const copied: [string, string][] = [];
    await copy(from, to, "", copied);
    return copied;
  }).then(() => {});
}

async function copy(from: string, to: string, rel: string, copied: [string, string][]) {
  await Deno.mkdir(to, { recursive: true });
  const entries = await Array.fromAsync(Deno.readDir(from));
  entries.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  for (const e of entries) {
    if (e.name === ".git" || e.isSymlink) continue;
    const path = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory) await copy(join(from, e.name), join(to, e.name), path, copied);
    else if (e.isFile) {
      await Deno.copyFile(join(from, e.name), join(to, e.name));
      copied.push([path, sha256Hex(await Deno.readFile(join(to, e.name)))]);
    }
  }
}
