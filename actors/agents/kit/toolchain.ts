import type { Project } from "../../tasks/repo_facts.ts";

/**
 * Each ecosystem's toolchain in CI: the setup steps of GitHub Actions and Azure Pipelines, and a
 * GitLab image that holds the tools the job's commands call.
 */
export interface Toolchain {
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
export function toolchain(p: Project, matrixVersion?: string): Toolchain {
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
        // bun's own image holds bun (and a Node.js for the tools that call node).
        image: pm === "bun" ? "oven/bun:1" : `node:${major}`,
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
    case "ruby": {
      // .ruby-version (or the gemspec's required_ruby_version); setup-ruby runs bundle install.
      const version = matrixVersion ?? p.runtimeVersion ?? "3.3";
      return {
        github: [{
          uses: "ruby/setup-ruby@v1",
          with: { "ruby-version": version, "bundler-cache": true, "working-directory": p.dir },
        }],
        image: `ruby:${version}`,
        cache: [`${p.dir}/vendor/bundle/`],
        azure: [{ task: "UseRubyVersion@0", inputs: { versionSpec: `>= ${version}` } }],
      };
    }
    case "php": {
      // composer.json's require.php; setup-php brings composer.
      const version = matrixVersion ?? p.runtimeVersion ?? "8.3";
      return {
        github: [{
          uses: "shivammathur/setup-php@v2",
          with: { "php-version": version, tools: "composer" },
        }],
        image: "composer:2",
        cache: [`${p.dir}/vendor/`],
        // The hosted image's PHP of that release; the job fails, naming it, where there is none.
        azure: [{
          script: `sudo update-alternatives --set php /usr/bin/php${version}`,
          displayName: `PHP ${version}`,
        }],
      };
    }
    case "cmake":
      // The hosted images hold cmake and a compiler; the container job gets them from apt.
      return {
        github: [],
        image: "gcc:14",
        setup: ["apt-get update -qq && apt-get install -y -qq cmake"],
        azure: [],
      };
    case "elixir": {
      // OTP and Elixir from .tool-versions, else a current Elixir that meets mix.exs; Azure's
      // hosted image has none, so Debian's is installed there.
      const [elixir, otp] = (p.runtimeVersion ?? "1.17").split("/");
      return {
        github: [{
          uses: "erlef/setup-beam@v1",
          with: { "elixir-version": elixir, "otp-version": otp ?? "27" },
        }],
        image: `elixir:${elixir.match(/^\d+\.\d+/)?.[0] ?? "1.17"}`,
        setup: ["mix local.hex --force", "mix local.rebar --force"],
        cache: [`${p.dir}/deps/`, `${p.dir}/_build/`],
        azure: [{
          script: "sudo apt-get update -qq && sudo apt-get install -y -qq elixir erlang-dev",
          displayName: "Elixir",
        }],
      };
    }
    default:
      return { github: [], image: "ubuntu:24.04", azure: [] };
  }
}
