import { stringify } from "yaml";
import { z } from "zod";
import type { Detection, GeneratedFile, Project } from "../../tasks/repo_facts.ts";
import { toolchain } from "./toolchain.ts";
import { dockerfile } from "./dockerfile.ts";

/** CI configuration for GitHub Actions, GitLab CI and Azure Pipelines from detected projects. */

/** The branches CI runs on (see the detector); `main` for detections without them. */
const branchesOf = (d: Detection) => d.branches?.names ?? ["main"];

/** A job's steps, named, in order: the CI files and `--verify-ci` run the same list. */
export const commands = (p: Project) =>
  ([["Install", p.install], ["Build", p.build], ["Test", p.test]] as const).filter((c) => c[1]) as [
    string,
    string,
  ][];
/** A project's job name: its type, and its folder when not the top. */
export const jobName = (p: Project) =>
  `${p.type}${p.dir === "." ? "" : `-${p.dir.replace(/[^A-Za-z0-9]+/g, "-")}`}`;

export function githubActions(d: Detection): string {
  const jobs = Object.fromEntries(d.projects.map((p) => [jobName(p), {
    "runs-on": "ubuntu-latest",
    ...(p.matrix ? { strategy: { "fail-fast": false, matrix: { version: p.matrix } } } : {}),
    defaults: { run: { "working-directory": p.dir } },
    steps: [
      { uses: "actions/checkout@v4" },
      ...toolchain(p, p.matrix ? "${{ matrix.version }}" : undefined).github,
      ...commands(p).map(([name, run]) => ({ name, run })),
    ],
  }]));
  const branches = branchesOf(d);
  return stringify({
    name: "CI",
    on: { push: { branches }, pull_request: { branches } },
    permissions: { contents: "read" },
    jobs,
  });
}

export function gitlabCi(d: Detection): string {
  // Pipelines for pushes to the default branch and for merge requests, not for every branch.
  const doc: Record<string, unknown> = {
    stages: ["test"],
    workflow: {
      rules: [
        { if: '$CI_PIPELINE_SOURCE == "merge_request_event"' },
        ...branchesOf(d).map((b) => ({ if: `$CI_COMMIT_BRANCH == "${b}"` })),
      ],
    },
  };
  for (const p of d.projects) {
    const t = toolchain(p, p.matrix ? "$VERSION" : undefined);
    doc[jobName(p)] = {
      stage: "test",
      ...(p.matrix ? { parallel: { matrix: [{ VERSION: p.matrix }] } } : {}),
      image: t.image,
      ...(t.cache ? { cache: { key: jobName(p), paths: t.cache } } : {}),
      script: [
        ...(p.dir === "." ? [] : [`cd ${p.dir}`]),
        ...(t.setup ?? []),
        ...commands(p).map(([, c]) => c),
      ],
    };
  }
  return stringify(doc);
}

export function azurePipelines(d: Detection): string {
  const branches = branchesOf(d);
  return stringify({
    trigger: { branches: { include: branches } },
    pr: { branches: { include: branches } },
    pool: { vmImage: "ubuntu-latest" },
    jobs: d.projects.map((p) => ({
      job: jobName(p).replace(/-/g, "_"),
      ...(p.matrix
        ? {
          strategy: {
            matrix: Object.fromEntries(
              p.matrix.map((v) => [`v${v.replace(/\W/g, "_")}`, { version: v }]),
            ),
          },
        }
        : {}),
      steps: [
        ...toolchain(p, p.matrix ? "$(version)" : undefined).azure,
        ...commands(p).map(([name, script]) => ({
          script,
          displayName: name,
          workingDirectory: p.dir,
        })),
      ],
    })),
  });
}

/**
 * The CI files for every platform, plus a Dockerfile for a repository that is one application
 * and has none.
 */
export function ciFiles(d: Detection): GeneratedFile[] {
  if (d.projects.length === 0) return [];
  const files: GeneratedFile[] = [
    {
      path: ".github/workflows/ci.yml",
      content: githubActions(d),
      mode: "create",
      reason: "no-ci",
    },
    { path: ".gitlab-ci.yml", content: gitlabCi(d), mode: "create", reason: "no-ci" },
    { path: "azure-pipelines.yml", content: azurePipelines(d), mode: "create", reason: "no-ci" },
  ];
  const docker = d.projects.length === 1 && !d.hasDocker ? dockerfile(d.projects[0]) : undefined;
  if (docker) {
    files.push({ path: "Dockerfile", content: docker, mode: "create", reason: "container build" });
  }
  return files;
}

/**
 * The structure each platform requires (the parts troupe generates), checked after parsing.
 * No npm package ships these platforms' JSON schemas offline, so they are written here from the
 * platforms' documentation.
 */
const Step = z.union([
  z.object({ uses: z.string().regex(/^[\w.-]+\/[\w./-]+@[\w.-]+$/) }).passthrough(),
  z.object({ run: z.string().min(1) }).passthrough(),
]);
export const CI_SCHEMAS: Record<string, z.ZodType> = {
  ".github/workflows/ci.yml": z.object({
    name: z.string().optional(),
    on: z.union([z.string(), z.array(z.string()), z.record(z.string(), z.unknown())]),
    jobs: z.record(
      z.string().regex(/^[A-Za-z_][A-Za-z0-9_-]*$/),
      z.object({
        "runs-on": z.union([z.string(), z.array(z.string())]),
        steps: z.array(Step).min(1),
      }).passthrough(),
    ).refine((j) => Object.keys(j).length > 0, "at least one job"),
  }),
  ".gitlab-ci.yml": z.record(z.string(), z.unknown()).superRefine((doc, ctx) => {
    const reserved = new Set([
      "stages",
      "variables",
      "default",
      "include",
      "workflow",
      "image",
      "services",
      "cache",
      "before_script",
      "after_script",
    ]);
    const stages = (doc.stages as string[] | undefined) ?? ["build", "test", "deploy"];
    const jobs = Object.entries(doc).filter(([k]) => !reserved.has(k) && !k.startsWith("."));
    if (jobs.length === 0) ctx.addIssue({ code: "custom", message: "no jobs" });
    for (const [name, job] of jobs) {
      const j = job as { script?: unknown; stage?: string };
      if (!Array.isArray(j.script) || j.script.length === 0) {
        ctx.addIssue({ code: "custom", message: `job ${name} has no script` });
      }
      if (j.stage && !stages.includes(j.stage)) {
        ctx.addIssue({ code: "custom", message: `job ${name} uses undeclared stage ${j.stage}` });
      }
    }
  }),
  "azure-pipelines.yml": z.object({
    trigger: z.unknown(),
    pool: z.object({ vmImage: z.string() }),
    jobs: z.array(z.object({
      job: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/),
      steps: z.array(
        z.union([
          z.object({ script: z.string() }).passthrough(),
          z.object({ task: z.string().regex(/^\w+@\d+$/) }).passthrough(),
        ]),
      ).min(1),
    })).min(1),
  }),
};
