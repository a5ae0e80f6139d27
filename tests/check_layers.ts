/**
 * The architecture as a check: data flows one way, CLI/HTTP → actors → plugins → sandboxes and
 * policies → ledger → runtime, and no module imports from a folder above its own; and no modules,
 * anywhere, import each other in a circle (a circle is one module in several files: the layers
 * inside a folder are only real without them). Run by `deno task check`; prints each offending
 * import or circle and exits 1.
 */
const LAYERS: Record<string, number> = {
  runtime: 0,
  ledger: 1,
  policies: 2,
  sandboxes: 2,
  plugins: 3,
  actors: 4,
  control: 5,
  cli: 6,
};

const root = new URL("../", import.meta.url);
const problems: string[] = [];

async function* sources(dir: URL): AsyncGenerator<URL> {
  for await (const e of Deno.readDir(dir)) {
    if (e.name.startsWith(".") || e.name === "node_modules" || e.name === "assembly") continue;
    const url = new URL(e.name + (e.isDirectory ? "/" : ""), dir);
    if (e.isDirectory) yield* sources(url);
    else if (e.name.endsWith(".ts")) yield url;
  }
}

const layerOf = (url: URL) => url.pathname.slice(root.pathname.length).split("/")[0];

/** Each module and the modules it imports (relative imports only: npm packages are leaves). */
const graph = new Map<string, string[]>();
const rel = (url: URL) => url.pathname.slice(root.pathname.length);

for (const folder of Object.keys(LAYERS)) {
  const dir = new URL(`${folder}/`, root);
  if (!(await Deno.stat(dir).catch(() => null))) continue;
  for await (const file of sources(dir)) {
    const text = await Deno.readTextFile(file);
    const imports: string[] = [];
    graph.set(rel(file), imports);
    for (const m of text.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+["'](\.[^"']+)["']/gm)) {
      imports.push(rel(new URL(m[1], file)));
      const target = layerOf(new URL(m[1], file));
      if (target in LAYERS && LAYERS[target] > LAYERS[folder]) {
        problems.push(
          `${file.pathname.slice(root.pathname.length)}: imports ${m[1]} from ${target}/, ` +
            `a layer above ${folder}/`,
        );
      }
    }
  }
}

// Circles: Tarjan's strongly connected components, each of more than one module is one.
let next = 0;
const index = new Map<string, number>();
const low = new Map<string, number>();
const stack: string[] = [];
const onStack = new Set<string>();
function visit(v: string): void {
  index.set(v, next);
  low.set(v, next++);
  stack.push(v);
  onStack.add(v);
  for (const w of graph.get(v) ?? []) {
    if (!graph.has(w)) continue;
    if (!index.has(w)) {
      visit(w);
      low.set(v, Math.min(low.get(v)!, low.get(w)!));
    } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
  }
  if (low.get(v) !== index.get(v)) return;
  const circle: string[] = [];
  for (let w = ""; w !== v;) {
    w = stack.pop()!;
    onStack.delete(w);
    circle.push(w);
  }
  if (circle.length > 1) problems.push(`these import each other in a circle: ${circle.join(", ")}`);
}
for (const v of graph.keys()) if (!index.has(v)) visit(v);

if (problems.length > 0) {
  console.error(
    `layering: ${problems.length} problem(s)\n  ${problems.join("\n  ")}`,
  );
  Deno.exit(1);
}
console.log("layering: every import flows downward, and no modules import each other in a circle");
