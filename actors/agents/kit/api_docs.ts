import { join } from "node:path";
import type { Detection } from "../../tasks/repo_facts.ts";
import { runSandboxed, type SandboxMode } from "./repo_sandbox.ts";
import { whyNotHere } from "./not_here.ts";

/**
 * API documentation made by each ecosystem's own tool, run in the repository sandbox (pydoc
 * imports the package, cargo doc runs build scripts: the project's code runs). Tools that print
 * text give a Markdown page the run proposes (`docs/api/…`); tools that build a website are run
 * to check that it builds, and the README names the command that makes it.
 */
export interface ApiDoc {
  project: string;
  tool: string;
  /** The command a reader runs in the project's folder to make it again. */
  command: string;
  outcome: "made" | "failed" | "not run";
  why?: string;
  /** The proposed page (`docs/api/NAME.md`) and its text, for tools that print text. */
  page?: { path: string; content: string };
  /** Where a website tool writes its pages, relative to the repository. */
  site?: string;
}

/** Pages longer than this are cut, saying so: a reference, not a dump. */
const MAX_PAGE = 200_000;

const exists = (path: string) => Deno.stat(path).then(() => true, () => false);

/** A project as detected: with a CI job, or without one (a library with no tests has an API). */
interface Project {
  type: string;
  dir: string;
  manifest?: string;
}

/** A plan for one project: the tool, its command, and how its output becomes a page or a site. */
interface DocPlan {
  tool: string;
  command: string;
  /** What runs here, when it is not `command`. */
  run?: string;
  /** Probe whose success means the tool is here. */
  probe: string;
  missing: string;
  text: boolean;
  site?: string;
}

/** A Deno project's entry points: deno.json's `exports`, else mod.ts, main.ts or index.ts. */
async function denoEntries(dir: string, manifest = "deno.json"): Promise<string[]> {
  let exports: unknown;
  try {
    exports = JSON.parse(await Deno.readTextFile(join(dir, manifest.split("/").pop()!))).exports;
  } catch {
    // deno.jsonc with comments, or none: the usual file names below.
  }
  const named = typeof exports === "string"
    ? [exports]
    : exports && typeof exports === "object"
    ? Object.values(exports).filter((v): v is string => typeof v === "string")
    : [];
  if (named.length) return named;
  for (const f of ["mod.ts", "main.ts", "index.ts"]) if (await exists(join(dir, f))) return [f];
  return [];
}

/**
 * A Deno workspace's members (deno.json's `workspace`), as projects of their own: each package
 * has its own exports and its own page. Nothing for a project that is not a workspace.
 */
async function denoMembers(root: string, p: Project): Promise<Project[]> {
  let workspace: unknown;
  try {
    const file = join(root, p.dir, (p.manifest ?? "deno.json").split("/").pop()!);
    workspace = JSON.parse(await Deno.readTextFile(file)).workspace;
  } catch {
    return [];
  }
  const members = Array.isArray(workspace)
    ? workspace
    : (workspace as { members?: unknown })?.members;
  if (!Array.isArray(members)) return [];
  const dirs = members.filter((m): m is string => typeof m === "string" && !m.includes("*"))
    .map((m) => join(p.dir, m).replace(/\/+$/, ""));
  const found = await Promise.all(dirs.map((d) => exists(join(root, d))));
  return dirs.filter((_, i) => found[i]).map((dir) => ({ type: "deno", dir }));
}

/** A Python project's top-level packages: folders with `__init__.py`, at its top or in `src/`. */
async function pythonPackages(dir: string): Promise<{ root: string; names: string[] }> {
  for (const root of ["src", "."]) {
    const names: string[] = [];
    try {
      for await (const e of Deno.readDir(join(dir, root))) {
        if (
          e.isDirectory && /^[A-Za-z_]\w*$/.test(e.name) && !/^(tests?|docs?)$/.test(e.name) &&
          await exists(join(dir, root, e.name, "__init__.py"))
        ) names.push(e.name);
      }
    } catch {
      continue;
    }
    if (names.length) return { root, names: names.sort() };
  }
  return { root: ".", names: [] };
}

async function planFor(p: Project, dir: string): Promise<DocPlan | string> {
  switch (p.type) {
    case "deno": {
      const entries = await denoEntries(dir, p.manifest);
      if (!entries.length) return "no entry point (deno.json exports, mod.ts, main.ts, index.ts)";
      return {
        tool: "deno doc",
        command: `deno doc ${entries.join(" ")}`,
        probe: "command -v deno",
        missing: "deno is not installed here",
        text: true,
      };
    }
    case "go":
      return {
        tool: "go doc",
        command: 'for p in $(go list ./...); do go doc -all "$p"; echo; done',
        probe: "command -v go",
        missing: "go is not installed here",
        text: true,
      };
    case "python": {
      const { root, names } = await pythonPackages(dir);
      if (!names.length) return "no package folder (one with __init__.py, at the top or in src/)";
      const path = root === "." ? "" : `PYTHONPATH=${root} `;
      return {
        tool: "pydoc",
        // Python's own: pdoc and Sphinx build websites; pydoc prints text a page can hold.
        command: `${path}python3 -m pydoc ${names.join(" ")}`,
        probe: "command -v python3",
        missing: "python3 is not installed here",
        text: true,
      };
    }
    case "rust": {
      const crate = (await Deno.readTextFile(join(dir, "Cargo.toml")).catch(() => ""))
        .match(/^\[package\][^[]*?^name\s*=\s*"([^"]+)"/m)?.[1]?.replaceAll("-", "_");
      return {
        tool: "cargo doc",
        command: "cargo doc --no-deps --offline",
        probe: "command -v cargo",
        missing: "cargo is not installed here",
        text: false,
        site: crate ? `target/doc/${crate}/index.html` : "target/doc/",
      };
    }
    case "node":
    case "typescript":
      // TypeDoc only as the project installed it: the sandbox has no network to fetch it.
      return {
        tool: "TypeDoc",
        command: "npx typedoc --out docs/api/site",
        run: "node node_modules/typedoc/bin/typedoc --out docs/api/site",
        probe: "test -f node_modules/typedoc/bin/typedoc",
        missing: "TypeDoc is not installed in the project (npm install --save-dev typedoc)",
        text: false,
        site: "docs/api/site/index.html",
      };
    default:
      return `troupe knows no API documentation tool for ${p.type} projects`;
  }
}

/** `docs/api/TYPE.md`, or `docs/api/TYPE-DIR.md` for a project below the top. */
const pagePath = (p: Project) =>
  `docs/api/${p.type}${p.dir === "." ? "" : `-${p.dir.replaceAll("/", "-")}`}.md`;

function page(
  p: Project,
  plan: DocPlan,
  output: string,
  copy: string,
): { path: string; content: string } {
  // Paths in the scratch copy (pydoc's FILE) are told relative to the project.
  // deno-lint-ignore no-control-regex
  let text = output.replace(/\x1b\[[0-9;]*m/g, "").replaceAll(`${copy}/`, "").trimEnd();
  if (text.length > MAX_PAGE) {
    text = `${text.slice(0, MAX_PAGE)}\n… (cut at ${MAX_PAGE} characters; run the command for all)`;
  }
  return {
    path: pagePath(p),
    content: [
      `# API reference: ${p.type} ${p.dir}`,
      "",
      `Made by ${plan.tool}, the ecosystem's own tool; to make it again, in \`${p.dir}\`:`,
      "",
      "```sh",
      plan.command,
      "```",
      "",
      "````text",
      text,
      "````",
      "",
    ].join("\n"),
  };
}

/**
 * Runs each project's documentation tool in `root` (a scratch copy of the repository), sandboxed,
 * with a time limit per project.
 */
export async function makeApiDocs(
  root: string,
  detection: Detection,
  mode: SandboxMode,
  timeoutMs: number,
): Promise<ApiDoc[]> {
  const docs: ApiDoc[] = [];
  const projects: Project[] = [];
  const found: Project[] = [
    ...detection.projects,
    ...(detection.skipped ?? []).filter((s) => !s.why.startsWith("test data")),
  ];
  for (const p of found) {
    const members = p.type === "deno" ? await denoMembers(root, p) : [];
    // A workspace's root documents itself only when it exports something of its own.
    const own = members.length === 0 || (await denoEntries(join(root, p.dir), p.manifest)).length;
    for (const q of [...(own ? [p] : []), ...members]) {
      // A member the detector found by itself is documented once.
      if (!projects.some((o) => o.type === q.type && o.dir === q.dir)) projects.push(q);
    }
  }
  for (const p of projects) {
    const dir = join(root, p.dir);
    const project = `${p.type} ${p.dir}`;
    const plan = await planFor(p, dir);
    if (typeof plan === "string") {
      docs.push({ project, tool: "none", command: "", outcome: "not run", why: plan });
      continue;
    }
    const base = { project, tool: plan.tool, command: plan.command };
    // Deno is here whatever else is not: the one troupe runs on.
    const m = { ...mode, root, ...(p.type === "deno" ? { tools: { deno: Deno.execPath() } } : {}) };
    const probe = await runSandboxed(dir, plan.probe, m, 10_000);
    if (probe.code !== 0) {
      const why = probe.code === null ? probe.output.split("\n")[0] : plan.missing;
      docs.push({ ...base, outcome: "not run", why });
      continue;
    }
    // Text tools print to stdout; errors are told apart by the exit code.
    const script = `export NO_COLOR=1\n( ${plan.run ?? plan.command} ) 2>/tmp/troupe-doc.err\n` +
      "s=$?; [ $s -ne 0 ] && tail -c 2000 /tmp/troupe-doc.err; exit $s";
    const r = await runSandboxed(dir, script, m, timeoutMs);
    const notHere = whyNotHere(r.code, r.output);
    if (notHere) {
      docs.push({ ...base, outcome: "not run", why: notHere });
      continue;
    }
    if (r.code !== 0 || (plan.text && !r.output.trim())) {
      const tail = r.output.trim().split("\n").slice(-3).join(" ").slice(0, 500);
      docs.push({ ...base, outcome: "failed", why: tail || `exit ${r.code}, no output` });
      continue;
    }
    docs.push({
      ...base,
      outcome: "made",
      ...(plan.text ? { page: page(p, plan, r.output, dir) } : { site: join(p.dir, plan.site!) }),
    });
  }
  return docs;
}
