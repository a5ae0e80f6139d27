import { isAbsolute, join, posix } from "node:path";
import { pinned, stablePath } from "../../../runtime/effects.ts";
import { sha256Hex } from "../../../runtime/sha256.ts";

/**
 * Copies a tree without `.git`, pinned in the task's effect log by the list of what it copied
 * (so a replay finds a repository that changed since). Written here because node's `cp` looks
 * at the destination's parent folders, which a coder may not read: it may touch only the
 * repository and its scratch. A symbolic link that stays inside the tree is copied as a link
 * (`node_modules/.bin`'s: a project's installed tools); one that leads out of it is not.
 */
export function copyTree(from: string, to: string): Promise<void> {
  return pinned("fs.copy", `${stablePath(from)} -> ${stablePath(to)}`, async () => {
    const copied: [string, string][] = [];
    const links: [string, string][] = [];
    await copy(from, to, "", copied, links);
    await makeLinks(links);
    return copied;
  }).then(() => {});
}

async function copy(
  from: string,
  to: string,
  rel: string,
  copied: [string, string][],
  links: [string, string][],
) {
  await Deno.mkdir(to, { recursive: true });
  const entries = await Array.fromAsync(Deno.readDir(from));
  entries.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  for (const e of entries) {
    if (e.name === ".git") continue;
    const path = rel ? `${rel}/${e.name}` : e.name;
    if (e.isSymlink) {
      const target = await Deno.readLink(join(from, e.name));
      if (!inside(path, target)) continue;
      links.push([target, join(to, e.name)]);
      copied.push([path, `-> ${target}`]);
    } else if (e.isDirectory) {
      await copy(join(from, e.name), join(to, e.name), path, copied, links);
    } else if (e.isFile) {
      await Deno.copyFile(join(from, e.name), join(to, e.name));
      copied.push([path, sha256Hex(await Deno.readFile(join(to, e.name)))]);
    }
  }
}

/** Whether a link at `path` (relative to the tree's root) to `target` stays inside the tree. */
function inside(path: string, target: string): boolean {
  if (isAbsolute(target)) return false;
  const to = posix.normalize(posix.join(posix.dirname(path), target));
  return to !== ".." && !to.startsWith("../");
}

/**
 * Makes the links, with `ln` in one shell per 500: `Deno.symlink` needs write access to every
 * path, which no agent has, while the agents that copy trees may start `sh`. A replay starts no
 * process; it needs no links either, as its commands' outputs are read from the recording.
 */
async function makeLinks(links: [string, string][]): Promise<void> {
  if (links.length === 0) return;
  if (Deno.permissions.querySync({ name: "run", command: "sh" }).state !== "granted") return;
  for (let i = 0; i < links.length; i += 500) {
    const out = await new Deno.Command("sh", {
      args: [
        "-c",
        'while [ $# -gt 1 ]; do ln -s -- "$1" "$2" || exit 1; shift 2; done',
        "sh",
        ...links.slice(i, i + 500).flat(),
      ],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!out.success) {
      throw new Error(`could not copy the tree's links: ${new TextDecoder().decode(out.stderr)}`);
    }
  }
}
