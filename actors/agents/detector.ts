import { defineAgent } from "../tasks/define_agent.ts";
import type {
  Branches,
  Detection,
  Project,
  ScanResult,
  SkippedProject,
} from "../tasks/repo_facts.ts";
import { denoManifests } from "./ecosystems/deno.ts";
import type { Detector } from "./ecosystems/detector_type.ts";
import { dotnetProject, dotnetSolution } from "./ecosystems/dotnet.ts";
import { goManifests } from "./ecosystems/go.ts";
import { javaManifests } from "./ecosystems/java.ts";
import { node } from "./ecosystems/node.ts";
import { dirOf, TEST_DATA, within } from "./ecosystems/paths.ts";
import { python } from "./ecosystems/python.ts";
import { rustManifests } from "./ecosystems/rust.ts";
import { usualManifests } from "./ecosystems/usual.ts";
import { TASK_KINDS } from "../tasks/task_kinds.ts";

/**
 * Project types, toolchains, test frameworks and existing CI, from the scan alone. Each
 * ecosystem's reading is a module of `ecosystems/`; this table of manifests is their registry
 * (package.json, pyproject.toml and setup.py, solutions and .csproj files are read below).
 */
const MANIFESTS: Record<string, Detector> = {
  ...goManifests,
  ...rustManifests,
  ...denoManifests,
  ...javaManifests,
  ...usualManifests,
};

export function detect(scan: ScanResult): Detection {
  const projects: Project[] = [];
  for (const f of scan.files) {
    const name = f.path.split("/").pop()!;
    if (f.path.split("/").includes("node_modules")) continue;
    if (name === "package.json") projects.push(node(scan, f.path));
    else if (name === "pyproject.toml" || name === "setup.py") {
      if (!projects.some((p) => p.type === "python" && p.dir === dirOf(f.path))) {
        projects.push(python(scan, f.path));
      }
    } else if (/\.slnx?$/.test(name)) projects.push(dotnetSolution(scan, f.path));
    else if (name.endsWith(".csproj")) projects.push(dotnetProject(scan, f.path));
    else if (MANIFESTS[name]) projects.push(MANIFESTS[name](dirOf(f.path), scan, f.path));
  }
  const family = (p: Project) => p.type === "typescript" ? "node" : p.type;
  const under = (root: Project, p: Project) => root.dir === "." || p.dir.startsWith(`${root.dir}/`);
  // One job per workspace: a .NET solution, a Cargo workspace, a Gradle build with its settings
  // file and a go.work take in every project of theirs below them; Node workspaces and Maven
  // parents their declared members.
  const roots = projects.filter((p) =>
    (p.type === "dotnet" && /\.slnx?$/.test(p.manifest)) ||
    (p.type === "rust" && p.test?.includes("--workspace")) ||
    (p.type === "java-gradle" && /settings\.gradle(\.kts)?$/.test(p.manifest)) ||
    (p.type === "go" && p.manifest.endsWith("go.work"))
  );
  // A member's own folder and everything in it (templates, fixtures) belong to the workspace.
  const folded = (p: Project) =>
    projects.some((r) =>
      r !== p && family(r) === family(p) && (r.members ?? []).some((m) => within(m, p.dir))
    ) ||
    roots.some((r) => r !== p && family(r) === family(p) && under(r, p)) ||
    // One Gradle project per folder (build.gradle beside settings.gradle).
    projects.some((q) => q !== p && q.type === p.type && q.dir === p.dir && roots.includes(q));
  const kept = projects.filter((p) => !folded(p));
  // A project with nothing to build or test, or one that is a test's data, gets no job: the
  // report says so.
  const why = (p: Project) =>
    TEST_DATA.test(p.dir)
      ? "test data (in a fixtures, testdata or __tests__ folder)"
      : !p.build && !p.test
      ? "nothing to build or test: no build or test command was found"
      : undefined;
  const skipped: SkippedProject[] = kept.filter(why).map((p) => ({
    type: p.type,
    dir: p.dir,
    why: why(p)!,
  }));
  projects.splice(0, projects.length, ...kept.filter((p) => !why(p)));
  const languages: Record<string, number> = {};
  for (const f of scan.files) {
    if (f.language) languages[f.language] = (languages[f.language] ?? 0) + 1;
  }
  const existingCi = scan.files.map((f) => f.path).filter((p) =>
    /^\.github\/workflows\/[^/]+\.ya?ml$/.test(p) || p === ".gitlab-ci.yml" ||
    p === "azure-pipelines.yml" || p === ".circleci/config.yml" || p === "Jenkinsfile"
  );
  return {
    projects,
    branches: branches(scan),
    languages,
    existingCi,
    hasDocker: scan.files.some((f) => /(^|\/)Dockerfile$/.test(f.path)),
    ...(skipped.length ? { skipped } : {}),
  };
}

/**
 * The branch CI runs on: the remote's default branch (`origin/HEAD`), else the one checked out;
 * without `.git`, both usual names, and the report says why.
 */
export function branches(scan: ScanResult): Branches {
  if (scan.git?.remoteHead) return { names: [scan.git.remoteHead], from: "origin/HEAD in .git" };
  if (scan.git?.head) return { names: [scan.git.head], from: "the branch checked out (.git/HEAD)" };
  return {
    names: ["main", "master"],
    from: scan.git
      ? "no branch checked out in .git: main and master"
      : "no .git folder: main and master",
  };
}

export default defineAgent(import.meta.url, TASK_KINDS, {
  detect: (_inputs, deps) => detect(deps.scan as ScanResult),
});
