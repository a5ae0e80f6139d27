import ignore from "ignore";
import { join, relative } from "node:path";
import { defineAgent } from "../tasks/define_agent.ts";
import { fileFacts, listDir, readText } from "./kit/repo_reads.ts";
import { moduleEdges } from "./kit/import_graph.ts";
import type { FileEntry, GitInfo, ScanResult } from "../tasks/repo_facts.ts";
import { TASK_KINDS } from "../tasks/task_kinds.ts";

/**
 * Data plane: walks the repository (honouring .gitignore and .troupeignore), hashing every file.
 * Read-only.
 */

const LANGUAGES: Record<string, string> = {
  ts: "TypeScript",
  tsx: "TypeScript",
  js: "JavaScript",
  jsx: "JavaScript",
  mjs: "JavaScript",
  cjs: "JavaScript",
  py: "Python",
  go: "Go",
  rs: "Rust",
  java: "Java",
  kt: "Kotlin",
  cs: "C#",
  rb: "Ruby",
  php: "PHP",
  c: "C",
  h: "C",
  cc: "C++",
  cpp: "C++",
  hpp: "C++",
  sh: "Shell",
  swift: "Swift",
  scala: "Scala",
};
const BINARY =
  /\.(png|jpe?g|gif|ico|pdf|zip|gz|tgz|jar|war|exe|dll|so|dylib|bin|wasm|class|o|a|mp4|mov|iso|dmg|sqlite|db|duckdb)$/i;
const KEY_FILE =
  /(^|\/)(package\.json|deno\.jsonc?|tsconfig\.json|go\.mod|Cargo\.toml|pyproject\.toml|setup\.py|setup\.cfg|requirements[^/]*\.txt|Pipfile|pom\.xml|build\.gradle(\.kts)?|[^/]+\.csproj|Gemfile|composer\.json|CMakeLists\.txt|Makefile|Dockerfile|\.gitignore|README(\.[a-z]+)?|CHANGELOG\.md|mix\.exs|\.tool-versions|\.ruby-version|[^/]+\.gemspec|\.nvmrc|\.node-version|\.python-version|global\.json|rust-toolchain(\.toml)?|settings\.gradle(\.kts)?|go\.work|pnpm-workspace\.yaml|\.yarnrc\.yml|tox\.ini|noxfile\.py|\.travis\.yml|\.?appveyor\.yml|\.circleci\/config\.yml)$/i;
const MAX_FILES = 20_000;
const MAX_KEY_FILE = 64 * 1024;
/** Source files read for their imports: the first this many bytes of each, and this many files. */
const MAX_SOURCE = 256 * 1024;
const MAX_SOURCES = 5_000;
const SOURCE = /\.(m|c)?(j|t)sx?$|\.py$|\.go$/;

export async function scan(root: string): Promise<ScanResult> {
  const files: FileEntry[] = [];
  const keyFiles: Record<string, string> = {};
  let totalBytes = 0;
  let truncated = false;
  // Only the lines that can import are kept: a repository's sources are not held in memory.
  const sources: { path: string; text: string }[] = [];
  const walk = async (dir: string, rules: ReturnType<typeof ignore>): Promise<void> => {
    // .troupeignore (same syntax) names what is in git but not to be assessed, e.g. fixtures.
    const own = await Promise.all(
      [".gitignore", ".troupeignore"].map(async (n) => await readText(join(dir, n)) ?? ""),
    );
    const base = relative(root, dir);
    const lines = own.join("\n").split("\n").filter((l) => l.trim() && !l.startsWith("#"));
    const here = lines.length === 0 ? rules : ignore().add(rules).add(
      lines.map((l) => base ? `${base}/${l.replace(/^\//, "")}` : l),
    );
    const entries = await listDir(dir);
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const e of entries) {
      const abs = join(dir, e.name);
      const rel = relative(root, abs);
      if (e.name === ".git" || e.isSymlink) continue;
      if (here.ignores(e.isDirectory ? `${rel}/` : rel)) continue;
      if (e.isDirectory) {
        await walk(abs, here);
        continue;
      }
      if (files.length >= MAX_FILES) {
        truncated = true;
        return;
      }
      const info = await fileFacts(abs);
      const ext = e.name.includes(".") ? e.name.split(".").pop()!.toLowerCase() : "";
      files.push({
        path: rel,
        size: info.size,
        sha256: info.sha256,
        language: LANGUAGES[ext] ?? null,
        binary: BINARY.test(e.name),
      });
      totalBytes += info.size;
      if (KEY_FILE.test(rel) && info.size <= MAX_KEY_FILE) {
        keyFiles[rel] = await readText(abs) ?? "";
      }
      if (SOURCE.test(rel) && info.size <= MAX_SOURCE && sources.length < MAX_SOURCES) {
        const text = await readText(abs);
        const lines = text?.split("\n").filter((l) => /import|require|from|^\s*"|^\)/.test(l));
        if (lines?.length) sources.push({ path: rel, text: lines.join("\n") });
      }
    }
  };
  await walk(root, ignore());
  const git = await readGit(root);
  const goModule = keyFiles["go.mod"]?.match(/^module\s+(\S+)/m)?.[1];
  const modules = moduleEdges(sources, files.map((f) => f.path), goModule);
  return { root, files, keyFiles, totalBytes, truncated, modules, ...(git ? { git } : {}) };
}

/** The checked-out branch and the remote's default branch, from `.git` (absent: undefined). */
async function readGit(root: string): Promise<GitInfo | undefined> {
  const read = (path: string) => readText(join(root, ".git", path));
  const head = await read("HEAD");
  if (head === null) return undefined;
  const branch = (text: string | null, prefix: string) =>
    text?.trim().startsWith(`ref: ${prefix}`) ? text.trim().slice(`ref: ${prefix}`.length) : null;
  return {
    head: branch(head, "refs/heads/"),
    remoteHead: branch(await read("refs/remotes/origin/HEAD"), "refs/remotes/origin/"),
    github: githubOf(await read("config")),
  };
}

/** `origin`'s URL in .git/config, as a GitHub web address (https or ssh remotes). */
function githubOf(config: string | null): string | null {
  const origin = config?.match(/\[remote "origin"\][^[]*?^\s*url\s*=\s*(\S+)/m)?.[1];
  const m = origin?.match(/github\.com[:/]([\w.-]+)\/([\w.-]+?)(?:\.git)?\/?$/);
  return m ? `https://github.com/${m[1]}/${m[2]}` : null;
}

export default defineAgent(import.meta.url, TASK_KINDS, {
  scan: (inputs) => scan(inputs.repo),
});
