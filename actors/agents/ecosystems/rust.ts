import type { Project, ScanResult } from "../../tasks/repo_facts.ts";
import type { Detector } from "./detector_type.ts";
import { exists, inDir } from "./paths.ts";

/**
 * The Rust toolchain: `rust-toolchain.toml`'s channel or `rust-toolchain`'s line pins one;
 * else `rust-version` (the oldest supported) gives a job for it and one for stable.
 */
function rustVersions(scan: ScanResult, dir: string, cargo: string): Partial<Project> {
  const toml = scan.keyFiles[inDir(dir, "rust-toolchain.toml")];
  const plain = scan.keyFiles[inDir(dir, "rust-toolchain")];
  const pinned = toml?.match(/^\s*channel\s*=\s*"([^"]+)"/m)?.[1] ??
    (plain && !plain.includes("[") ? plain.split("\n")[0].trim() : undefined) ??
    plain?.match(/^\s*channel\s*=\s*"([^"]+)"/m)?.[1];
  if (pinned) {
    return {
      runtimeVersion: pinned,
      runtimeVersionFrom: toml ? "rust-toolchain.toml" : "rust-toolchain",
    };
  }
  const msrv = cargo.match(/^rust-version\s*=\s*"([^"]+)"/m)?.[1];
  return msrv
    ? {
      runtimeVersion: msrv,
      runtimeVersionFrom: "rust-version in Cargo.toml",
      matrix: [msrv, "stable"],
    }
    : {};
}

/** Rust crates and workspaces. */
export const rustManifests: Record<string, Detector> = {
  "Cargo.toml": (dir, scan, manifest) => {
    // A workspace is built and tested as one, with its one lock file.
    const cargo = scan.keyFiles[manifest] ?? "";
    const workspace = /^\[workspace\]/m.test(cargo);
    const all = workspace ? " --workspace" : "";
    const locked = exists(scan, inDir(dir, "Cargo.lock"));
    return {
      type: "rust",
      dir,
      manifest,
      build: `cargo build${all}${locked ? " --locked" : ""}`,
      test: `cargo test${all}`,
      testFramework: "cargo test",
      lockfile: locked ? "Cargo.lock" : undefined,
      ...rustVersions(scan, dir, cargo),
    };
  },
};
