import { connect } from "@nats-io/transport-node";
import { exportParquet, type LedgerEngine } from "../../ledger/mod.ts";
import { projectCluster } from "../../ledger/cluster_projection.ts";
import { defineCommand, ENGINE_FLAG, engineHelp, JSON_FLAG, LEDGER_FLAG } from "../command.ts";

export const ledgerCommand = defineCommand({
  name: "ledger",
  summary: "ledger maintenance: export --parquet DIR; project --cluster URLS",
  usage:
    `Usage: deno task ledger export --parquet DIR [--ledger PATH] [--engine native|wasm] [--json]
       deno task ledger project --cluster URLS [--into FILE] [--name CLUSTER] [--json]

export writes the ledger's events, in sequence order, to DIR/events.parquet.

project reads the cluster's ledger stream (every node's events, shipped by \`deno task node\`)
into one DuckDB file, going on from where the last projection stopped, and verifies each
node's hash chain as its events arrive. Query it with: deno task sql --ledger FILE. Exits 1
when a node's chain is broken (a gap, an edited or forged event), naming it.

Options:
  --parquet DIR  the folder to write to (created if missing)
  --ledger PATH  the ledger file (default .troupe/ledger.duckdb)
${engineHelp(17)}
  --cluster URLS the cluster's NATS servers, comma-separated
  --into FILE    the projection (default .troupe/cluster.duckdb)
  --name CLUSTER the cluster's name (default troupe)
  --json         print the result as JSON
  -h, --help     show this help`,
  flags: {
    parquet: { type: "string" },
    ledger: LEDGER_FLAG,
    engine: ENGINE_FLAG,
    cluster: { type: "string", default: "" },
    into: { type: "string", default: ".troupe/cluster.duckdb" },
    name: { type: "string", default: "troupe" },
    json: JSON_FLAG,
  },
  async run(flags, [sub], fail) {
    if (sub === "project") {
      const servers = flags.cluster.split(",").map((s) => s.trim()).filter(Boolean);
      if (servers.length === 0) return fail("project needs --cluster nats://HOST:PORT");
      const nc = await connect({ servers }).catch((err: Error) => err);
      if (nc instanceof Error) {
        return fail(`could not reach NATS at ${servers.join(", ")}: ${nc.message}`);
      }
      try {
        const p = await projectCluster(nc, { cluster: flags.name, into: flags.into });
        if (flags.json) console.log(JSON.stringify({ into: flags.into, ...p }));
        else {
          console.log(
            `projected ${p.added} new events into ${flags.into}` +
              (p.duplicates ? ` (${p.duplicates} sent twice, kept once)` : ""),
          );
          for (const c of p.nodes) {
            console.log(
              `  ${c.node}: ${c.events} events, head ${c.headSeq}: ` +
                (c.problem ? `BROKEN: ${c.problem}` : "chain verified"),
            );
          }
        }
        return p.nodes.some((c) => c.problem) ? 1 : 0;
      } finally {
        await nc.close();
      }
    }
    if (sub !== "export") return fail("the subcommands are: export, project");
    if (!flags.parquet) return fail("export needs --parquet DIR");
    const result = await exportParquet(flags.ledger, flags.parquet, flags.engine as LedgerEngine);
    console.log(
      flags.json ? JSON.stringify(result) : `wrote ${result.events} events to ${result.file}`,
    );
    return 0;
  },
});
