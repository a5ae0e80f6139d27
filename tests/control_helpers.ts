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
