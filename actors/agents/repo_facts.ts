/** What the scanner reports about a repository; the other agents read it. */
export interface FileEntry {
  path: string;
  size: number;
  sha256: string;
  language: string | null;
  binary: boolean;
}

export interface ScanResult {
  root: string;
  files: FileEntry[];
  /** Text of the manifest and configuration files the detector needs, by path. */
  keyFiles: Record<string, string>;
  totalBytes: number;
  truncated: boolean;
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
}

export interface Detection {
  projects: Project[];
  languages: Record<string, number>;
  existingCi: string[];
  hasDocker: boolean;
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
  /** "create" a new file, "append" to an existing one, or "replace" one's whole text. */
  mode: "create" | "append" | "replace";
  reason: string;
}
