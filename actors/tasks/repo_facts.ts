/** What the scanner reports about a repository; the other agents read it. */
export interface FileEntry {
  path: string;
  size: number;
  sha256: string;
  language: string | null;
  binary: boolean;
}

/** What `.git` says of the branches: the one checked out, and the remote's default. */
export interface GitInfo {
  head: string | null;
  remoteHead: string | null;
  /** The GitHub web address of `origin` (`https://github.com/owner/repo`), when it is one. */
  github?: string | null;
}

export interface ScanResult {
  root: string;
  /** Absent when the repository has no `.git` folder. */
  git?: GitInfo;
  files: FileEntry[];
  /** Text of the manifest and configuration files the detector needs, by path. */
  keyFiles: Record<string, string>;
  totalBytes: number;
  truncated: boolean;
  /**
   * Which modules (folders, two levels deep) import which, by how many import statements, from
   * the code's own imports (JavaScript/TypeScript, Python, Go); absent in older scans.
   */
  modules?: [from: string, to: string, count: number][];
}

export interface Project {
  type: string;
  dir: string;
  manifest: string;
  install?: string;
  build?: string;
  test?: string;
  testFramework?: string;
  lockfile?: string;
  /** The toolchain version the project asks for (`.nvmrc`, `engines`, …), as written there. */
  runtimeVersion?: string;
  /** Where that version comes from. */
  runtimeVersionFrom?: string;
  /** The package manager, as `packageManager` or the lock file says (`pnpm`, `yarn`, `npm`). */
  packageManager?: string;
  /** Several toolchain versions the project declares it supports: one CI job each. */
  matrix?: string[];
  /** Where the test command was read, when not from the project's manifest (tox.ini, .travis.yml, …). */
  testFrom?: string;
  /** Workspace members this project's one job builds and tests. */
  members?: string[];
  /** How the application starts (package.json's `start`, a Go `main.go`): absent for libraries. */
  start?: string;
}

/** A project that gets no CI job, and why. */
export interface SkippedProject {
  type: string;
  dir: string;
  why: string;
}

/** The branches CI runs on, and how they were found. */
export interface Branches {
  names: string[];
  from: string;
}

export interface Detection {
  projects: Project[];
  /** Absent in detections made before branches were read. */
  branches?: Branches;
  languages: Record<string, number>;
  existingCi: string[];
  hasDocker: boolean;
  /** Projects with nothing to build or test (no job for them). */
  skipped?: SkippedProject[];
}

export interface Finding {
  rule: string;
  severity: "info" | "low" | "medium" | "high" | "critical";
  message: string;
  path?: string;
  line?: number;
  evidence?: string;
  /** For `compliance` findings: the pack and control violated, e.g. `soc2/CC6.1`. */
  control?: string;
}

export interface GeneratedFile {
  path: string;
  content: string;
  /**
   * "create" a new file, "append" to an existing one, "replace" one's whole text, or "delete" it
   * (content empty).
   */
  mode: "create" | "append" | "replace" | "delete";
  reason: string;
}

/**
 * True when `text` already ends with what appending `f` adds: an append done before a crash,
 * which applying (and reporting) again must not double.
 */
export function alreadyAppended(text: string, f: GeneratedFile): boolean {
  return f.mode === "append" && f.content.length > 0 && text.endsWith(f.content);
}

/** One step of the repair plan: per finding kind, with risk, whether troupe can do it, and rollback. */
export interface RepairStep {
  id: string;
  rule: string;
  action: string;
  risk: "low" | "medium" | "high" | "critical";
  /** troupe generates the change; otherwise a person must act (the report says how). */
  automated: boolean;
  dependsOn: string[];
  rollback: string;
}
