import type { Project, ScanResult } from "../../tasks/repo_facts.ts";

/** Reads one manifest (in folder `dir`) into the project it declares. */
export type Detector = (dir: string, scan: ScanResult, manifest: string) => Project;
