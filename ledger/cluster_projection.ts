import type { DuckDBAppender } from "@duckdb/node-api";
import type { NatsConnection } from "@nats-io/transport-node";
import { DeliverPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { chainHash, GENESIS_HASH } from "./hash_chain.ts";
import type { LedgerRow } from "./ledger_event.ts";
import { ensureLedgerStream } from "./ledger_shipper.ts";
import { PROJECTION_MARK } from "./schema.ts";
import { VIEWS } from "./views.ts";

/** Each node's chain as the projection found it. */
export interface NodeChain {
  node: string;
  events: number;
  headSeq: number;
  headHash: string;
  /** Why its chain is broken (a gap, an edit, a bad link); none when it verified. */
  problem?: string;
}

/** What a projection pass did. */
export interface Projection {
  /** Events added by this pass. */
  added: number;
  /** Events sent twice and skipped. */
  duplicates: number;
  nodes: NodeChain[];
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS events (
  node VARCHAR NOT NULL, seq BIGINT NOT NULL, ts TIMESTAMP NOT NULL, run_id VARCHAR,
  actor VARCHAR NOT NULL, type VARCHAR NOT NULL, causation_id BIGINT, correlation_id VARCHAR,
  payload JSON NOT NULL, prev_hash VARCHAR NOT NULL, hash VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS chains (
  node VARCHAR PRIMARY KEY, events BIGINT, head_seq BIGINT, head_hash VARCHAR, problem VARCHAR
);
CREATE TABLE IF NOT EXISTS consumed (stream_seq BIGINT);`;

/**
 * Projects the cluster's ledger stream into one DuckDB file for SQL: the `events` of every node
 * (with a `node` column; `seq` is the node's own) and troupe's views over them. Each pass goes
 * on from the stream position the last one reached, verifies each node's hash chain as its
 * events arrive (a gap, an edited event or a broken link is recorded in `chains.problem`, and
 * that node's later events are kept out), and skips events sent twice.
 */
export async function projectCluster(
  nc: NatsConnection,
  o: { cluster: string; into: string },
): Promise<Projection> {
  const stream = await ensureLedgerStream(nc, o.cluster);
  // Loaded here: its native library needs FFI, which a command that never projects need not have.
  const { DuckDBInstance, DuckDBTimestampValue } = await import("@duckdb/node-api");
  const instance = await DuckDBInstance.create(o.into);
  const conn = await instance.connect();
  try {
    await conn.run(SCHEMA);
    await conn.run(`COMMENT ON TABLE events IS '${PROJECTION_MARK}'`);
    for (const v of VIEWS) await conn.run(v.sql);
    const chains = new Map<string, NodeChain>();
    for (const r of (await conn.runAndReadAll("SELECT * FROM chains")).getRowObjectsJS()) {
      chains.set(String(r.node), {
        node: String(r.node),
        events: Number(r.events),
        headSeq: Number(r.head_seq),
        headHash: String(r.head_hash),
        ...(r.problem ? { problem: String(r.problem) } : {}),
      });
    }
    const consumed = Number(
      (await conn.runAndReadAll("SELECT coalesce(max(stream_seq), 0) AS s FROM consumed"))
        .getRowObjectsJS()[0].s,
    );
    const jsm = await jetstreamManager(nc);
    const last = (await jsm.streams.info(stream)).state.last_seq;
    let added = 0, duplicates = 0, at = consumed;
    if (last > consumed) {
      const consumer = await jetstream(nc).consumers.get(stream, {
        deliver_policy: DeliverPolicy.StartSequence,
        opt_start_seq: consumed + 1,
      });
      const appender = await conn.createAppender("events");
      while (at < last) {
        // No more than the stream has: a fetch waits out its expiry for messages that never come.
        const batch = await consumer.fetch({
          max_messages: Math.min(100, last - at),
          expires: 5000,
        });
        let got = 0;
        for await (const m of batch) {
          got++;
          at = m.seq;
          const node = m.subject.split(".").pop()!;
          const chain = chains.get(node) ??
            { node, events: 0, headSeq: 0, headHash: GENESIS_HASH };
          chains.set(node, chain);
          for (const row of m.json<LedgerRow[]>()) {
            if (row.seq <= chain.headSeq) {
              duplicates++;
              continue;
            }
            if (chain.problem) continue;
            chain.problem = problemOf(chain, row);
            if (chain.problem) continue;
            appender.appendVarchar(node);
            appender.appendBigInt(BigInt(row.seq));
            appender.appendTimestamp(new DuckDBTimestampValue(BigInt(row.ts) * 1000n));
            appendNullable(appender, row.runId);
            appender.appendVarchar(row.actor);
            appender.appendVarchar(row.type);
            if (row.causationId === null) appender.appendNull();
            else appender.appendBigInt(BigInt(row.causationId));
            appendNullable(appender, row.correlationId);
            appender.appendVarchar(row.payload);
            appender.appendVarchar(row.prevHash);
            appender.appendVarchar(row.hash);
            appender.endRow();
            chain.events++;
            chain.headSeq = row.seq;
            chain.headHash = row.hash;
            added++;
          }
        }
        if (got === 0) break; // the stream had less than it said: stop here, go on next pass
      }
      appender.closeSync();
      for (const c of chains.values()) {
        await conn.run(
          "INSERT OR REPLACE INTO chains VALUES ($node, $events, $seq, $hash, $problem)",
          {
            node: c.node,
            events: c.events,
            seq: c.headSeq,
            hash: c.headHash,
            problem: c.problem ?? null,
          },
        );
      }
      await conn.run("DELETE FROM consumed");
      await conn.run("INSERT INTO consumed VALUES ($at)", { at });
    }
    return { added, duplicates, nodes: [...chains.values()] };
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

function appendNullable(appender: DuckDBAppender, value: string | null): void {
  if (value === null) appender.appendNull();
  else appender.appendVarchar(value);
}

/** Why `row` cannot follow the node's chain as it stands; none when it can. */
function problemOf(chain: NodeChain, row: LedgerRow): string | undefined {
  if (row.seq !== chain.headSeq + 1) {
    return `event ${
      chain.headSeq + 1
    } of node ${chain.node} is missing (the next one sent is ${row.seq})`;
  }
  if (row.prevHash !== chain.headHash) {
    return `event ${row.seq} of node ${chain.node} does not link to the hash of event ${chain.headSeq}`;
  }
  if (chainHash(row.prevHash, row) !== row.hash) {
    return `event ${row.seq} of node ${chain.node} does not match its hash: it was edited`;
  }
  return undefined;
}
