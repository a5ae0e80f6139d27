import { LedgerError } from "./ledger_error.ts";
import { VIEWS } from "./views.ts";

/** Marks a DuckDB file as a troupe ledger, so that foreign databases are never written to. */
export const LEDGER_MARK = "troupe-ledger v1";
/** Marks a cluster's projection (`projectCluster`): every node's events, open for reading only. */
export const PROJECTION_MARK = "troupe-cluster-projection v1";

/** `payloadType` is JSON where DuckDB has its JSON extension, VARCHAR where it has not (wasm). */
const createEvents = (payloadType: "JSON" | "VARCHAR") => `
CREATE TABLE events (
  seq            BIGINT NOT NULL,
  ts             TIMESTAMP NOT NULL,
  run_id         VARCHAR,
  actor          VARCHAR NOT NULL,
  type           VARCHAR NOT NULL,
  causation_id   BIGINT,
  correlation_id VARCHAR,
  payload        ${payloadType} NOT NULL,
  prev_hash      VARCHAR NOT NULL,
  hash           VARCHAR NOT NULL
)`;

/** The two things schema set-up needs from an engine's connection. */
export interface SchemaConnection {
  run(sql: string): Promise<void>;
  rows(sql: string): Promise<Record<string, unknown>[]>;
}

/**
 * Creates the schema in an empty database, or checks that an existing one is a ledger. Views
 * are (re)created only where the ledger is writable; a read-only one keeps those it was
 * written with.
 */
export async function ensureSchema(
  conn: SchemaConnection,
  path: string,
  options: { writable: boolean; payloadType: "JSON" | "VARCHAR" },
): Promise<void> {
  const tables = await conn.rows(
    "SELECT table_name, comment FROM duckdb_tables() WHERE database_name = current_database()",
  ) as { table_name: string; comment: string | null }[];
  if (tables.length === 0) {
    if (!options.writable) {
      throw new LedgerError("not_a_ledger", `${path} is an empty database, not a troupe ledger`);
    }
    await conn.run(createEvents(options.payloadType));
    await conn.run(`COMMENT ON TABLE events IS '${LEDGER_MARK}'`);
  } else if (
    !tables.some((t) =>
      t.table_name === "events" &&
      (t.comment === LEDGER_MARK || (!options.writable && t.comment === PROJECTION_MARK))
    )
  ) {
    throw new LedgerError(
      "not_a_ledger",
      `${path} is a DuckDB database but not a troupe ledger (it has tables ${
        tables.map((t) => t.table_name).join(", ")
      }); ` +
        `troupe will not write to it. Pass another path with --ledger.`,
      { path },
    );
  }
  if (options.writable) { for (const view of VIEWS) await conn.run(view.sql); }
}
