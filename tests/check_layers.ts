/**
 * The architecture as a check: data flows one way, CLI/HTTP → actors → plugins → sandboxes and
 * policies → ledger → runtime, and no module imports from a folder above its own. Run by
 * `deno task check`; prints each offending import and exits 1.
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

for (const folder of Object.keys(LAYERS)) {
  const dir = new URL(`${folder}/`, root);
  if (!(await Deno.stat(dir).catch(() => null))) continue;
  for await (const file of sources(dir)) {
    const text = await Deno.readTextFile(file);
    for (const m of text.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+["'](\.[^"']+)["']/gm)) {
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

if (problems.length > 0) {
  console.error(
    `layering: ${problems.length} import(s) against the flow\n  ${problems.join("\n  ")}`,
  );
  Deno.exit(1);
}
console.log("layering: every import flows downward");
