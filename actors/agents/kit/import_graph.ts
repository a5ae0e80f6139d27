import { dirname, join, normalize } from "node:path";

/**
 * Which parts of a repository import which, from its own import statements: the picture a reader
 * wants of a codebase's structure. Files are grouped into modules by folder (two levels deep, so
 * `src/api/routes/x.ts` is in `src/api`); an edge says some file of one module imports a file of
 * another. Read by regular expressions, not compilers: JavaScript and TypeScript relative imports
 * (`import`, `export … from`, `import()`, `require`), Python imports of the repository's own
 * packages (absolute and relative), Go imports under the module's path (go.mod).
 */

/** One module's imports of another, and how many import statements say so. */
export type ModuleEdge = [from: string, to: string, count: number];

/** The module (folder, two levels at most) a repository-relative path belongs to. */
export function moduleOf(path: string): string {
  const dir = dirname(path);
  return dir === "." ? "." : dir.split("/").slice(0, 2).join("/");
}

const JS = /\.(m|c)?(j|t)sx?$/;
const JS_IMPORT =
  /(?:^|[\s;])(?:import|export)\s[^;]*?from\s*["']([^"']+)["']|\bimport\s*\(\s*["']([^"']+)["']\s*\)|\brequire\s*\(\s*["']([^"']+)["']\s*\)|^\s*import\s*["']([^"']+)["']/gm;
const PY_IMPORT = /^\s*(?:from\s+(\.*[\w.]*)\s+import\s|import\s+([\w.]+(?:\s*,\s*[\w.]+)*))/gm;
const GO_IMPORT_BLOCK = /^import\s*\(([\s\S]*?)\)|^import\s+(?:\w+\s+)?"([^"]+)"/gm;

/** The repository-relative files or folders one file imports (unresolved ones left out). */
export function importsOf(
  path: string,
  text: string,
  repo: { files: Set<string>; dirs: Set<string>; goModule?: string },
): string[] {
  const found: string[] = [];
  if (JS.test(path)) {
    for (const m of text.matchAll(JS_IMPORT)) {
      const spec = m[1] ?? m[2] ?? m[3] ?? m[4];
      if (spec?.startsWith(".")) found.push(normalize(join(dirname(path), spec)));
    }
  } else if (path.endsWith(".py")) {
    for (const m of text.matchAll(PY_IMPORT)) {
      for (const name of m[1] !== undefined ? [m[1]] : m[2].split(/\s*,\s*/)) {
        const dots = name.match(/^\.*/)![0].length;
        const rest = name.slice(dots).replaceAll(".", "/");
        // Relative: from the file's package up; absolute: a package of the repository itself.
        let base = dirname(path);
        for (let i = 1; i < dots; i++) base = dirname(base);
        const target = dots > 0 ? normalize(join(base, rest)) : rest;
        if (repo.files.has(`${target}.py`) || repo.dirs.has(target)) found.push(target);
      }
    }
  } else if (path.endsWith(".go") && repo.goModule) {
    for (const m of text.matchAll(GO_IMPORT_BLOCK)) {
      const specs = m[1] ? [...m[1].matchAll(/"([^"]+)"/g)].map((s) => s[1]) : [m[2]];
      for (const spec of specs) {
        if (spec === repo.goModule) found.push(".");
        else if (spec.startsWith(`${repo.goModule}/`)) {
          found.push(spec.slice(repo.goModule.length + 1));
        }
      }
    }
  }
  return found;
}

/** Every folder holding a file, at any depth. */
function foldersOf(files: string[]): Set<string> {
  const dirs = new Set<string>();
  for (const f of files) {
    for (let d = dirname(f); d !== "." && !dirs.has(d); d = dirname(d)) dirs.add(d);
  }
  return dirs;
}

/** Edges between modules, most imports first; a module's imports of itself are left out. */
export function moduleEdges(
  sources: { path: string; text: string }[],
  allFiles: string[],
  goModule?: string,
): ModuleEdge[] {
  const files = new Set(allFiles);
  const dirs = foldersOf(allFiles);
  const counts = new Map<string, number>();
  for (const { path, text } of sources) {
    const from = moduleOf(path);
    for (const target of importsOf(path, text, { files, dirs, goModule })) {
      // A folder imported (a package) is that folder's module; a file, the module it lies in.
      const to = dirs.has(target) ? moduleOf(`${target}/x`) : moduleOf(target);
      if (to === from || to.startsWith("..")) continue;
      const key = `${from}\0${to}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  return [...counts].map(([key, n]) => [...key.split("\0"), n] as ModuleEdge)
    .sort((a, b) => b[2] - a[2] || a[0].localeCompare(b[0]) || a[1].localeCompare(b[1]));
}

/**
 * A Mermaid flowchart of module edges (the `max` busiest), node ids made safe and labels quoted
 * so that any folder name renders.
 */
export function moduleDiagram(edges: ModuleEdge[], max = 40): string {
  const shown = edges.slice(0, max);
  const ids = new Map<string, string>();
  const id = (m: string) => {
    if (!ids.has(m)) ids.set(m, `m${ids.size}`);
    return ids.get(m)!;
  };
  const lines = shown.map(([from, to, n]) => `  ${id(from)} -->|${n}| ${id(to)}`);
  const nodes = [...ids].map(([m, i]) =>
    `  ${i}["${m === "." ? "(top level)" : m.replaceAll('"', "'")}"]`
  );
  return ["flowchart LR", ...nodes, ...lines].join("\n");
}
