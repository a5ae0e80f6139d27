import type { Project, ScanResult } from "../../tasks/repo_facts.ts";
import { dirOf, inDir } from "./paths.ts";

/** A test project references the test SDK (or is named as one). */
const isTestProject = (scan: ScanResult, csproj: string) =>
  /Microsoft\.NET\.Test\.Sdk|xunit|nunit|MSTest/i.test(scan.keyFiles[csproj] ?? "") ||
  /(^|[./])Tests?\.csproj$/i.test(csproj);

/** The SDK a .NET project needs: `global.json`, else its target frameworks (`net8.0` → 8.0). */
function dotnetVersion(
  scan: ScanResult,
  dir: string,
  csprojs: string[],
): { version: string; from: string } | undefined {
  if (scan.keyFiles[inDir(dir, "global.json")] ?? scan.keyFiles["global.json"]) {
    return { version: "global.json", from: "global.json" };
  }
  const frameworks = new Set<string>();
  for (const c of csprojs) {
    for (const m of (scan.keyFiles[c] ?? "").matchAll(/<TargetFrameworks?>([^<]+)</g)) {
      for (const tf of m[1].split(";")) {
        const v = tf.trim().match(/^net(\d+\.\d+)/)?.[1];
        if (v) frameworks.add(`${v}.x`);
      }
    }
  }
  return frameworks.size
    ? { version: [...frameworks].sort().join(","), from: "TargetFramework in the projects" }
    : undefined;
}

/** A .NET solution: one job for its projects. */
export function dotnetSolution(scan: ScanResult, manifest: string): Project {
  const dir = dirOf(manifest);
  const csprojs = scan.files.map((f) => f.path).filter((p) =>
    p.endsWith(".csproj") && (dir === "." || p.startsWith(`${dir}/`))
  );
  const sln = manifest.split("/").pop()!;
  const version = dotnetVersion(scan, dir, csprojs);
  return {
    type: "dotnet",
    dir,
    manifest,
    install: `dotnet restore ${sln}`,
    build: `dotnet build ${sln} --no-restore`,
    test: csprojs.some((c) => isTestProject(scan, c)) ? `dotnet test ${sln} --no-build` : undefined,
    ...(version ? { runtimeVersion: version.version, runtimeVersionFrom: version.from } : {}),
  };
}

/** A .NET project outside any solution. */
export function dotnetProject(scan: ScanResult, manifest: string): Project {
  const dir = dirOf(manifest);
  const version = dotnetVersion(scan, dir, [manifest]);
  return {
    type: "dotnet",
    dir,
    manifest,
    build: "dotnet build",
    test: isTestProject(scan, manifest) ? "dotnet test" : undefined,
    ...(version ? { runtimeVersion: version.version, runtimeVersionFrom: version.from } : {}),
  };
}
