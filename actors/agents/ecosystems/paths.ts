import type { ScanResult } from "../../tasks/repo_facts.ts";

/** Where a manifest is, and what is beside it: the helpers every ecosystem's detector shares. */
export const dirOf = (
  path: string,
) => (path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : ".");
export const exists = (scan: ScanResult, path: string) => scan.files.some((f) => f.path === path);
export const inDir = (dir: string, name: string) => (dir === "." ? name : `${dir}/${name}`);
/** `path` is in folder `dir` or below it. */
export const within = (dir: string, path: string) =>
  dir === "." || path === dir || path.startsWith(`${dir}/`);
/** Folders that hold test data, not projects of their own. */
export const TEST_DATA = /(^|\/)(fixtures?|testdata|test-data|__tests__|__fixtures__)(\/|$)/;
