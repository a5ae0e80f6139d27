import { stringify } from "yaml";
import { z } from "zod";
import type { Detection, GeneratedFile, Project } from "../../tasks/repo_facts.ts";

/** CI configuration for GitHub Actions, GitLab CI and Azure Pipelines from detected projects. */

interface Toolchain {
  github: Record<string, unknown>[];
  image: string;
  /** Commands before the project's own in a container job (GitLab). */
  setup?: string[];
  cache?: string[];
  azure: Record<string, unknown>[];
}

/**
 * The setup for a project's toolchain; `matrixVersion` is the platform's reference to the job's
 * matrix version (`${{ matrix.version }}`, `$VERSION`, `$(version)`) for projects with a matrix.
 */
function toolchain(p: Project, matrixVersion?: string): Toolchain {
  switch (p.type) {
    case "node":
    case "typescript": {
      // The version the project asks for; an exact one, a range or `lts/*` as written there.
      const version = p.runtimeVersion ?? "20";
      const major = version.match(/\d+/)?.[0] ?? "20";
      const pm = p.packageManager ?? "npm";
      // pnpm and yarn come through corepack, at the version `packageManager` pins.
      const corepack = pm === "pnpm" || pm === "yarn";
      return {
        github: [
          ...(pm === "pnpm" ? [{ uses: "pnpm/action-setup@v4" }] : []),
          ...(pm === "bun" ? [{ uses: "oven-sh/setup-bun@v2" }] : []),
          {
            uses: "actions/setup-node@v4",
            with: {
              "node-version": version,
              ...(p.lockfile && pm !== "bun"
                ? { cache: pm, "cache-dependency-path": `${p.dir}/${p.lockfile}` }
                : {}),
            },
          },
        ],
        image: `node:${major}`,
        setup: corepack ? ["corepack enable"] : [],
        cache: [`${p.dir}/node_modules/`],
        azure: [
          {
            task: "NodeTool@0",
            inputs: { versionSpec: /^\d+$/.test(version) ? `${version}.x` : version },
          },
          ...(corepack ? [{ script: "corepack enable", displayName: `Enable ${pm}` }] : []),
        ],
      };
    }
    case "python": {
      // An exact version from .python-version, else the lowest that requires-python allows.
      const version = matrixVersion ?? p.runtimeVersion?.match(/\d+\.\d+/)?.[0] ?? "3.12";
      const pm = p.packageManager ?? "pip";
      const uv = pm === "uv";
      const setupPython = {
        uses: "actions/setup-python@v5",
        with: {
          "python-version": version,
          // setup-python caches pip's and poetry's downloads, keyed on their lock files.
          ...(pm === "pip" || pm === "poetry" ? { cache: pm } : {}),
          // A declared version not yet released is tested on its pre-release.
          ...(matrixVersion ? { "allow-prereleases": true } : {}),
        },
      };
      return {
        github: uv
          ? [{
            uses: "astral-sh/setup-uv@v6",
            with: { "python-version": version, "enable-cache": true },
          }]
          : pm === "pdm"
          ? [{ uses: "pdm-project/setup-pdm@v4", with: { "python-version": version, cache: true } }]
          // Poetry is installed before setup-python, whose poetry cache looks for it.
          : [
            ...(pm === "poetry" ? [{ name: "Poetry", run: "pipx install poetry" }] : []),
            setupPython,
          ],
        image: uv ? `ghcr.io/astral-sh/uv:python${version}-bookworm` : `python:${version}`,
        setup: pm === "poetry" || pm === "pdm" ? [`pip install ${pm}`] : [],
        cache: [uv ? ".cache/uv" : ".cache/pip"],
        azure: [
          { task: "UsePythonVersion@0", inputs: { versionSpec: version } },
          ...(pm !== "pip" ? [{ script: `pip install ${pm}`, displayName: pm }] : []),
        ],
      };
    }
    case "go": {
      const version = p.runtimeVersion ?? "1.22";
      return {
        // setup-go reads go.mod or go.work from the repository's top.
        github: [{ uses: "actions/setup-go@v5", with: { "go-version-file": p.manifest } }],
        image: `golang:${version.split(".").slice(0, 2).join(".")}`,
        cache: [".go/pkg/mod/"],
        azure: [{ task: "GoTool@0", inputs: { version } }],
      };
    }
    case "dotnet": {
      // global.json pins the SDK; else each target framework's SDK line.
      const globalJson = p.runtimeVersion === "global.json";
      const versions = globalJson ? [] : (p.runtimeVersion ?? "8.0.x").split(",");
      const major = versions[0]?.match(/^\d+\.\d+/)?.[0] ?? "8.0";
      return {
        github: [{
          uses: "actions/setup-dotnet@v4",
          with: globalJson
            ? { "global-json-file": `${p.dir}/global.json` }
            : { "dotnet-version": versions.join("\n") },
        }],
        image: `mcr.microsoft.com/dotnet/sdk:${major}`,
        azure: globalJson
          ? [{ task: "UseDotNet@2", inputs: { useGlobalJson: true } }]
          : versions.map((v) => ({
            task: "UseDotNet@2",
            inputs: { packageType: "sdk", version: v },
          })),
      };
    }
    case "rust": {
      // The pinned toolchain, or each matrix version (the oldest supported and stable).
      const version = matrixVersion ?? p.runtimeVersion ?? "stable";
      const rustup = `rustup toolchain install ${version} --profile minimal && ` +
        `rustup default ${version}`;
      return {
        github: [
          version === "stable"
            ? { uses: "dtolnay/rust-toolchain@stable" }
            : { uses: "dtolnay/rust-toolchain@master", with: { toolchain: version } },
          { uses: "Swatinem/rust-cache@v2", with: { workspaces: p.dir } },
        ],
        image: /^\d+\.\d+(\.\d+)?$/.test(version) ? `rust:${version}` : "rust:1",
        setup: /^\d+\.\d+(\.\d+)?$/.test(version) ? [] : [rustup],
        cache: [`${p.dir}/target/`],
        azure: [{ script: rustup, displayName: "Rust toolchain" }],
      };
    }
    case "deno":
      return {
        github: [{ uses: "denoland/setup-deno@v2", with: { "deno-version": "v2.x" } }],
        image: "denoland/deno:latest",
        azure: [{ script: "curl -fsSL https://deno.land/install.sh | sh", displayName: "Deno" }],
      };
    case "java-maven":
    case "java-gradle": {
      // The release the build compiles for; 21 (the current LTS) where it says none.
      const version = p.runtimeVersion ?? "21";
      return {
        github: [{
          uses: "actions/setup-java@v4",
          with: {
            distribution: "temurin",
            "java-version": version,
            cache: p.type === "java-maven" ? "maven" : "gradle",
          },
        }],
        image: p.type === "java-maven"
          ? `maven:3-eclipse-temurin-${version}`
          : `gradle:jdk${version}`,
        azure: [{
          task: "JavaToolInstaller@0",
          inputs: {
            versionSpec: version,
            jdkArchitectureOption: "x64",
            jdkSourceOption: "PreInstalled",
          },
        }],
      };
    }
    default:
      return { github: [], image: "ubuntu:24.04", azure: [] };
  }
}

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

export function dockerfile(p: Project): string | undefined {
  const install = p.install ?? "true";
  switch (p.type) {
    case "node":
    case "typescript":
      return `FROM node:20-slim\nWORKDIR /app\nCOPY . .\nRUN ${install}${
        p.build ? ` && ${p.build}` : ""
      }\nUSER node\nCMD ["npm", "start"]\n`;
    case "go":
      return `FROM golang:1.22 AS build\nWORKDIR /src\nCOPY . .\nRUN CGO_ENABLED=0 go build -o /out/app .\n\nFROM gcr.io/distroless/static\nCOPY --from=build /out/app /app\nUSER nonroot\nENTRYPOINT ["/app"]\n`;
    default:
      return undefined;
  }
}

/** The CI files for every platform, plus a Dockerfile for a single-project repository without one. */
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
