import type { DuckDBConnection } from "@duckdb/node-api";
import { LedgerError } from "./ledger_error.ts";
import { VIEWS } from "./views.ts";

/** Marks a DuckDB file as a troupe ledger, so that foreign databases are never written to. */
export const LEDGER_MARK = "troupe-ledger v1";

const CREATE_EVENTS = `
CREATE TABLE events (
  seq            BIGINT NOT NULL,
  ts             TIMESTAMP NOT NULL,
  run_id         VARCHAR,
  actor          VARCHAR NOT NULL,
  type           VARCHAR NOT NULL,
  causation_id   BIGINT,
  correlation_id VARCHAR,
  payload        JSON NOT NULL,
  prev_hash      VARCHAR NOT NULL,
  hash           VARCHAR NOT NULL
)`;

/** Creates the schema in an empty database, or checks that an existing one is a ledger. */
export async function ensureSchema(
  conn: DuckDBConnection,
  path: string,
  writable: boolean,
): Promise<void> {
  const tables = (await conn.runAndReadAll(
    "SELECT table_name, comment FROM duckdb_tables() WHERE database_name = current_database()",
  )).getRowObjectsJS() as { table_name: string; comment: string | null }[];
  if (tables.length === 0) {
    if (!writable) {
      throw new LedgerError("not_a_ledger", `${path} is an empty database, not a troupe ledger`);
    }
    await conn.run(CREATE_EVENTS);
    await conn.run(`COMMENT ON TABLE events IS '${LEDGER_MARK}'`);
  } else if (!tables.some((t) => t.table_name === "events" && t.comment === LEDGER_MARK)) {
    throw new LedgerError(
      "not_a_ledger",
      `${path} is a DuckDB database but not a troupe ledger (it has tables ${
        tables.map((t) => t.table_name).join(", ")
      }); ` +
        `troupe will not write to it. Pass another path with --ledger.`,
      { path },
    );
  }
  if (writable) { for (const view of VIEWS) await conn.run(view.sql); }
}
