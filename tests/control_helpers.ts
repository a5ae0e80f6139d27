import { cp } from "node:fs/promises";
import { join } from "node:path";

/** Where a test's control server keeps its ledger, keys, approvals and plugins: below `dir`. */
export function serverFolders(dir: string) {
  return {
    port: 0,
    ledger: join(dir, "ledger.duckdb"),
    keys: join(dir, "keys"),
    approvals: join(dir, "approvals"),
    plugins: join(dir, "plugins"),
  };
}

/** A copy of a fixture repository at `dir/repo`, for runs that may write into it. */
export async function fixtureRepo(dir: string, name = "go_mod"): Promise<string> {
  const repo = join(dir, "repo");
  await cp(new URL(`./fixtures/repos/${name}`, import.meta.url).pathname, repo, {
    recursive: true,
  });
  return repo;
}
