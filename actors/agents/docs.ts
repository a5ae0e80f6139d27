import { defineAgent } from "../tasks/define_agent.ts";
import { clockNow } from "../../runtime/effects.ts";
import type { RepairStep } from "../tasks/repo_facts.ts";
import type { Detection, GeneratedFile, ScanResult } from "../tasks/repo_facts.ts";
import { TASK_KINDS } from "../tasks/task_kinds.ts";
import { moduleDiagram } from "./kit/import_graph.ts";
import type { ApiDoc } from "./kit/api_docs.ts";

/** A README's markup: headings and code blocks are written in it. */
type Markup = "md" | "rst" | "adoc";

function markupOf(path: string): Markup {
  return /\.rst$/i.test(path) ? "rst" : /\.(adoc|asciidoc)$/i.test(path) ? "adoc" : "md";
}

/** The set-up section in the README's own markup; the badge only where the remote is known. */
function developmentSection(markup: Markup, setup: string[], tests: string[], badge?: string) {
  const heading = { md: "## Development", rst: "Development\n-----------", adoc: "== Development" }[
    markup
  ];
  const code = (lines: string[]) =>
    markup === "rst"
      ? [".. code-block:: sh", "", ...lines.map((l) => `   ${l}`), ""]
      : markup === "adoc"
      ? ["[source,sh]", "----", ...lines, "----", ""]
      : ["```sh", ...lines, "```", ""];
  const image = badge &&
    { md: `![CI](${badge})`, rst: `.. image:: ${badge}\n   :alt: CI`, adoc: `image:${badge}[CI]` }[
      markup
    ];
  return [
    heading,
    "",
    ...(image ? [image, ""] : []),
    ...(setup.length ? ["Set up:", "", ...code(setup)] : []),
    ...(tests.length ? ["Run the tests:", "", ...code(tests)] : []),
  ].join("\n");
}

/**
 * The CHANGELOG with `entry` placed as Keep a Changelog has it: under an existing Unreleased
 * section, else in a new one above the newest release (after the title and its preamble).
 */
export function placeChangelogEntry(text: string, changes: string[], date: string): string {
  const lines = text.split("\n");
  const unreleased = lines.findIndex((l) => /^##\s*\[?unreleased\]?/i.test(l));
  if (unreleased >= 0) {
    // After the section's heading and any lines of it that come before its next heading.
    let at = unreleased + 1;
    while (at < lines.length && !/^##?\s/.test(lines[at])) at++;
    while (at > unreleased + 1 && lines[at - 1].trim() === "") at--;
    lines.splice(at, 0, ...(at === unreleased + 1 ? [""] : []), ...changes);
    return lines.join("\n");
  }
  const newest = lines.findIndex((l) => /^##\s/.test(l));
  const section = [`## [Unreleased] (${date})`, "", ...changes, ""];
  if (newest < 0) return `${text.replace(/\n*$/, "\n\n")}${section.join("\n")}`;
  lines.splice(newest, 0, ...section);
  return lines.join("\n");
}

/** Test and fixture folders: in the code's imports, but not in the picture of its structure. */
const TESTS = /(^|\/)(tests?|spec|specs|__tests__|e2e|fixtures?|testdata|bench(marks)?)(\/|$)/;

/**
 * `docs/architecture.md`, when the repository has none: a Mermaid diagram of which of its modules
 * (folders) import which, read from its own imports (tests left out). Nothing when the code shows
 * no imports between its folders.
 */
function architecturePage(scan: ScanResult): GeneratedFile | undefined {
  const path = "docs/architecture.md";
  const edges = (scan.modules ?? []).filter(([from, to]) => !TESTS.test(from) && !TESTS.test(to));
  if (edges.length === 0 || scan.files.some((f) => f.path.toLowerCase() === path)) return undefined;
  const shown = Math.min(edges.length, 40);
  return {
    path,
    content: [
      "# Architecture",
      "",
      `Which parts of the code import which: each box is a folder, each arrow says its files import`,
      `the other's, with how many import statements do. Read from the code's own imports${
        edges.length > shown ? ` (the ${shown} busiest of ${edges.length} links)` : ""
      }; tests left out.`,
      "",
      "```mermaid",
      moduleDiagram(edges, shown),
      "```",
      "",
    ].join("\n"),
    mode: "create",
    reason: "architecture diagram",
  };
}

/**
 * The README's "API documentation" section, in its own markup: a link to each page made here,
 * and the command that builds each website a tool makes. Undefined when nothing was made.
 */
function apiSection(markup: Markup, docs: ApiDoc[]): string | undefined {
  const made = docs.filter((d) => d.outcome === "made");
  if (made.length === 0) return undefined;
  const link = (text: string, href: string) =>
    ({ md: `[${text}](${href})`, rst: `\`${text} <${href}>\`_`, adoc: `link:${href}[${text}]` })[
      markup
    ];
  const code = (c: string) => markup === "rst" ? `\`\`${c}\`\`` : `\`${c}\``;
  const heading = {
    md: "## API documentation",
    rst: "API documentation\n-----------------",
    adoc: "== API documentation",
  }[markup];
  return [
    heading,
    "",
    ...made.map((d) =>
      d.page
        ? `- ${link(d.project, d.page.path)}, made by ${d.tool} (${code(d.command)})`
        : `- ${d.project}: ${code(d.command)} (${d.tool}) writes ${code(d.site ?? "")}`
    ),
    "",
  ].join("\n");
}

/**
 * Docs: README set-up and test sections (with a CI badge), the API pages the ecosystems' tools
 * made (`--api-docs`) linked from a README section, and a CHANGELOG entry.
 */
export function writeDocs(
  scan: ScanResult,
  detection: Detection,
  plan: RepairStep[],
  date: string,
  apiDocs: ApiDoc[] = [],
): GeneratedFile[] {
  const files: GeneratedFile[] = [];
  // README.md, README.rst, README.adoc, README: whichever the project has at its top.
  const readme = scan.files.find((f) =>
    /^readme(\.(md|markdown|rst|adoc|asciidoc|txt))?$/i.test(f.path)
  );
  const text = readme ? scan.keyFiles[readme.path] ?? "" : "";
  const lines = (key: "install" | "build" | "test") =>
    detection.projects.filter((p) => p[key]).map((p) => `(cd ${p.dir} && ${p[key]})`);
  const setup = [...lines("install"), ...lines("build")];
  const tests = lines("test");
  const badge = scan.git?.github
    ? `${scan.git.github}/actions/workflows/ci.yml/badge.svg`
    : undefined;
  if (!readme) {
    const name = scan.root.split("/").filter(Boolean).pop() ?? "project";
    files.push({
      path: "README.md",
      content: `# ${name}\n\n${developmentSection("md", setup, tests, badge)}`,
      mode: "create",
      reason: "no-readme",
    });
  } else if (
    !/^(##+|==+|[^\n]+\n[-~^]{3,}$)\s*(development|getting started|setup|set-up|installation)/im
      .test(text) &&
    !/^(development|getting started|setup|set-up|installation)\s*\n[-=~^]{3,}/im.test(text)
  ) {
    files.push({
      path: readme.path,
      content: `\n${developmentSection(markupOf(readme.path), setup, tests, badge)}`,
      mode: "append",
      reason: "readme has no set-up section",
    });
  }
  for (const d of apiDocs) {
    if (!d.page) continue;
    const exists = scan.files.some((f) => f.path === d.page!.path);
    files.push({
      ...d.page,
      mode: exists ? "replace" : "create",
      reason: `API reference (${d.tool})`,
    });
  }
  const api = apiSection(markupOf(readme?.path ?? "README.md"), apiDocs);
  if (api && !/^(##+|==+)?\s*API (documentation|reference)\b/im.test(text)) {
    // After the set-up section this run adds (to a new README or an existing one), else at the end.
    const added = files.find((f) =>
      f.path === (readme?.path ?? "README.md") && (f.mode === "create" || f.mode === "append")
    );
    const append = { path: readme?.path ?? "README.md", content: `\n${api}`, reason: "API docs" };
    if (added) added.content = `${added.content.trimEnd()}\n\n${api}`;
    else files.push({ ...append, mode: "append" });
  }
  const architecture = architecturePage(scan);
  if (architecture) files.push(architecture);
  const changes = plan.filter((s) => s.automated && s.id !== "changelog").map((s) =>
    `- ${s.action}`
  );
  if (changes.length > 0) {
    const path = "CHANGELOG.md";
    const exists = scan.files.some((f) => f.path === path);
    const current = scan.keyFiles[path];
    files.push(
      !exists
        ? {
          path,
          content: `# Changelog\n\n${placeChangelogEntry("", changes, date).trimStart()}`,
          mode: "create",
          reason: "changelog",
        }
        : current !== undefined
        ? {
          path,
          content: placeChangelogEntry(current, changes, date),
          mode: "replace",
          reason: "changelog",
        }
        // Too large to have been read: the entry goes at its end.
        : {
          path,
          content: `\n## [Unreleased] (${date})\n\n${changes.join("\n")}\n`,
          mode: "append",
          reason: "changelog",
        },
    );
  }
  return files;
}

export default defineAgent(import.meta.url, TASK_KINDS, {
  write_docs: async (inputs, deps) =>
    writeDocs(
      deps.scan as ScanResult,
      deps.detect as Detection,
      deps.plan_repairs as RepairStep[],
      inputs.date ?? new Date(await clockNow()).toISOString().slice(0, 10),
      (deps.api_docs as ApiDoc[] | undefined) ?? [],
    ),
});
