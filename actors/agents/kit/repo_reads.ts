import { pinned, stablePath } from "../../../runtime/effects.ts";
import { sha256Hex } from "../../../runtime/sha256.ts";

/**
 * Reads of the repository and of copies of it, through the task's effect log: each is pinned by
 * the SHA-256 of what it gave, so `replay --verify` reads it again and finds any change.
 */

/** A file's text, or null when it cannot be read. */
export function readText(path: string): Promise<string | null> {
  return pinned("fs.read", stablePath(path), () => Deno.readTextFile(path).catch(() => null));
}

/** A folder's entries, as `Deno.readDir` gives them (throws as it does). */
export function listDir(path: string): Promise<Deno.DirEntry[]> {
  return pinned("fs.list", stablePath(path), async () => {
    const entries: Deno.DirEntry[] = [];
    for await (const e of Deno.readDir(path)) {
      const { name, isFile, isDirectory, isSymlink } = e;
      entries.push({ name, isFile, isDirectory, isSymlink });
    }
    return entries.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  });
}

/** A file's size and SHA-256. */
export function fileFacts(path: string): Promise<{ size: number; sha256: string }> {
  return pinned("fs.file", stablePath(path), async () => {
    const bytes = await Deno.readFile(path);
    return { size: bytes.byteLength, sha256: sha256Hex(bytes) };
  });
}
