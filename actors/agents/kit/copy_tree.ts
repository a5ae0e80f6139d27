import { join } from "node:path";

/**
 * Copies a tree without `.git`. Written here because node's `cp` looks at the destination's
 * parent folders, which a coder may not read: it may touch only the repository and its scratch.
 */
export async function copyTree(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const e of Deno.readDir(from)) {
    if (e.name === ".git" || e.isSymlink) continue;
    if (e.isDirectory) await copyTree(join(from, e.name), join(to, e.name));
    else if (e.isFile) await Deno.copyFile(join(from, e.name), join(to, e.name));
  }
}
