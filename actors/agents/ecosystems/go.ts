import type { Detector } from "./detector_type.ts";
import { exists, inDir, within } from "./paths.ts";

/** `toolchain go1.22.3`, else `go 1.22`, from go.mod or go.work. */
const goVersion = (gomod = "") =>
  gomod.match(/^toolchain go(\d+\.\d+(?:\.\d+)?)/m)?.[1] ??
    gomod.match(/^go (\d+\.\d+(?:\.\d+)?)/m)?.[1];

/** The module folders a go.work `use`s, relative to it: `use ./a` and `use ( ./a ./b )`. */
function goWorkUses(gowork: string): string[] {
  const text = gowork.replace(/\/\/.*$/gm, "");
  const single = [...text.matchAll(/^\s*use\s+([^\s(]\S*)\s*$/gm)].map((m) => m[1]);
  const blocks = [...text.matchAll(/^\s*use\s*\(([^)]*)\)/gm)].flatMap((m) =>
    m[1].split("\n").map((l) => l.trim()).filter(Boolean)
  );
  return [...single, ...blocks].map((u) => u.replace(/^\.\/?/, "").replace(/\/$/, ""));
}

/** Go modules and workspaces. */
export const goManifests: Record<string, Detector> = {
  "go.mod": (dir, scan, manifest) => ({
    type: "go",
    dir,
    manifest,
    ...(goVersion(scan.keyFiles[manifest])
      ? { runtimeVersion: goVersion(scan.keyFiles[manifest]), runtimeVersionFrom: "go.mod" }
      : {}),
    install: "go mod download",
    build: "go build ./...",
    test: scan.files.some((f) => within(dir, f.path) && f.path.endsWith("_test.go"))
      ? "go test ./..."
      : undefined,
    testFramework: "go test",
    lockfile: exists(scan, inDir(dir, "go.sum")) ? "go.sum" : undefined,
    ...(exists(scan, inDir(dir, "main.go")) ? { start: "go run ." } : {}),
  }),
  // A Go workspace: its modules built and tested together from its folder.
  "go.work": (dir, scan, manifest) => {
    const gowork = scan.keyFiles[manifest] ?? "";
    const uses = goWorkUses(gowork);
    const patterns = uses.map((u) => u === "" ? "./..." : `./${u}/...`).join(" ");
    const hasTests = scan.files.some((f) =>
      f.path.endsWith("_test.go") &&
      uses.some((u) => f.path.startsWith(inDir(dir, u === "" ? "" : `${u}/`)))
    );
    return {
      type: "go",
      dir,
      manifest,
      ...(goVersion(gowork)
        ? { runtimeVersion: goVersion(gowork), runtimeVersionFrom: "go.work" }
        : {}),
      build: `go build ${patterns}`,
      test: hasTests ? `go test ${patterns}` : undefined,
      testFramework: "go test",
      members: uses.map((u) => inDir(dir, u)),
    };
  },
};
