/**
 * The architecture as a check: data flows one way, CLI → chaos → HTTP → actors → plugins →
 * sandboxes and policies → ledger → runtime, and no module imports from a folder above its own.
 * Inside `actors/` and `control/` the sub-folders have floors of their own (FLOORS); an agent
 * module does not import another agent; the runtime is reached through its entry or a module
 * deno.json's exports map names public; and no modules, anywhere, import each other in a circle
 * (a circle is one module in several files); and no module outside the tests is over 400 lines.
 * Run by `deno task check`; prints each offending import, circle or module and exits 1.
 */
const LAYERS: Record<string, number> = {
  runtime: 0,
  ledger: 1,
  policies: 2,
  sandboxes: 2,
  plugins: 3,
  actors: 4,
  control: 5,
  chaos: 6,
  cli: 7,
};

/**
 * Floors inside a folder, by path prefix (the longest that matches; the folder itself is floor
 * 0): a module may import from its own floor or below. In actors/: the task contract shared by
 * agents and orchestrator at the bottom, then the model gateway, the agents' kit, the agents and
 * the planners, and the orchestrator on top. In control/: services, middleware, route groups,
 * the app that assembles them, the server.
 */
const FLOORS: Record<string, number> = {
  "actors/tasks/": 0,
  "actors/llm/": 1,
  "actors/agents/kit/": 2,
  "actors/agents/ecosystems/": 2,
  "actors/agents/": 3,
  "actors/planning/": 3,
  "actors/deploy/": 3,
  "actors/demo/": 3,
  "actors/examples/": 3,
  "actors/orchestrator/": 4,
  "actors/mod.ts": 5,
  "control/": 0,
  "control/middleware/": 1,
  "control/routes/": 2,
  "control/app.ts": 3,
  "control/server.ts": 4,
  "control/mod.ts": 5,
};
const floorOf = (path: string): [string, number] | undefined => {
  let best: [string, number] | undefined;
  for (const [prefix, floor] of Object.entries(FLOORS)) {
    if (path.startsWith(prefix) && (!best || prefix.length > best[0].length)) {
      best = [prefix, floor];
    }
  }
  return best;
};
/** Agent modules: each is one agent, loaded alone in its own worker or process. */
const isAgent = (path: string) => /^actors\/agents\/[^/]+\.ts$/.test(path);

const config = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
const publicRuntime = new Set(
  Object.values(config.exports as Record<string, string>)
    .map((p) => p.replace(/^\.\//, ""))
    .filter((p) => p.startsWith("runtime/")),
);

/** A module longer than this holds more than one concern (tests aside). */
const MAX_LINES = 400;

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
    const lines = text.split("\n").length - 1;
    if (lines > MAX_LINES) {
      problems.push(`${rel(file)}: ${lines} lines; split it by concern (at most ${MAX_LINES})`);
    }
    const imports: string[] = [];
    graph.set(rel(file), imports);
    for (const m of text.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+["'](\.[^"']+)["']/gm)) {
      const to = rel(new URL(m[1], file));
      const from = rel(file);
      imports.push(to);
      const target = layerOf(new URL(m[1], file));
      if (target === folder) {
        const [a, b] = [floorOf(from), floorOf(to)];
        if (a && b && b[1] > a[1]) {
          problems.push(`${from}: imports ${m[1]} from ${b[0]}, a floor above ${a[0]}`);
        }
        if (isAgent(from) && isAgent(to)) {
          problems.push(`${from}: imports the agent ${m[1]} (shared code belongs in agents/kit/)`);
        }
      }
      if (target === "runtime" && folder !== "runtime" && !publicRuntime.has(to)) {
        problems.push(
          `${from}: imports ${m[1]}, past the runtime's entry (import runtime/mod.ts, or name ` +
            `the module in deno.json's exports if it is public)`,
        );
      }
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
console.log(
  "layering: every import flows downward, between folders and between floors inside them, " +
    "no modules import each other in a circle, and none is over 400 lines",
);
