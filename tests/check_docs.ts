/**
 * Every public entry documents what it exports: the module itself, each exported symbol, and
 * each public method of an exported class. Run by `deno task check` with `deno doc --json`.
 *
 * Not `deno doc --lint`: its explicit-type rule wants every exported zod schema's type written
 * out by hand, a second definition of every message and spec beside the schema, which is the one
 * definition. This checks the part of that lint a reader relies on.
 */
const ENTRIES = ["runtime", "ledger", "policies", "sandboxes", "actors", "control"].map((d) =>
  `${d}/mod.ts`
);

interface Doc {
  jsDoc?: { doc?: string; tags?: { kind: string }[] };
}
interface Method extends Doc {
  name: string;
  accessibility?: string;
  isStatic?: boolean;
}
interface Declaration extends Doc {
  kind: string;
  location: { filename: string; line: number };
  def?: { methods?: Method[] };
}
interface DocJson {
  nodes: Record<string, {
    module_doc?: { doc?: string };
    symbols?: { name: string; declarations: Declaration[] }[];
  }>;
}

const root = new URL("../", import.meta.url);
const out = await new Deno.Command(Deno.execPath(), {
  args: ["doc", "--json", ...ENTRIES],
  cwd: root.pathname,
  stdout: "piped",
  stderr: "piped", // deno doc warns about types it cannot resolve inside npm packages
}).output();
if (!out.success) {
  console.error(new TextDecoder().decode(out.stderr));
  Deno.exit(1);
}
const json = JSON.parse(new TextDecoder().decode(out.stdout)) as DocJson;

const documented = (d: Doc) =>
  !!d.jsDoc?.doc?.trim() || !!d.jsDoc?.tags?.some((t) => t.kind === "internal");
const where = (d: Declaration) =>
  `${d.location.filename.slice(root.href.length)}:${d.location.line}`;
const problems: string[] = [];

for (const entry of ENTRIES) {
  const node = json.nodes[new URL(entry, root).href];
  if (!node?.module_doc?.doc?.trim()) problems.push(`${entry}: no module doc`);
  for (const symbol of node?.symbols ?? []) {
    for (const d of symbol.declarations) {
      if (!documented(d)) problems.push(`${where(d)}: ${symbol.name} (from ${entry})`);
      for (const m of d.def?.methods ?? []) {
        if (m.accessibility === "private" || m.name.startsWith("#")) continue;
        if (!documented(m)) problems.push(`${where(d)}: ${symbol.name}.${m.name} (from ${entry})`);
      }
    }
  }
}

if (problems.length > 0) {
  console.error(
    `docs: ${problems.length} public name(s) without a doc comment\n  ${problems.join("\n  ")}`,
  );
  Deno.exit(1);
}
console.log(`docs: every name the entries export is documented (${ENTRIES.join(", ")})`);
