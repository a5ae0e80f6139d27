import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Ledger, LedgerRow } from "../ledger/mod.ts";
import type { ActorSystem } from "../runtime/mod.ts";

/**
 * The server's Prometheus metrics. Counters follow the ledger: every commit is read once as it
 * lands (messages, restarts, task outcomes and durations, model tokens and cost); gauges are
 * read from the actor system when scraped (mailbox depths, messages handled).
 */
export function serverMetrics(ledger: Ledger, system: ActorSystem): {
  registry: Registry;
  stop(): void;
} {
  const registry = new Registry();
  const on = { registers: [registry] };
  const delivered = new Counter({
    name: "troupe_messages_delivered_total",
    help: "Messages delivered to actors, as recorded in the ledger",
    labelNames: ["message_type"],
    ...on,
  });
  const restarts = new Counter({
    name: "troupe_actor_restarts_total",
    help: "Actor restarts by their supervisors",
    ...on,
  });
  const crashes = new Counter({ name: "troupe_actor_crashes_total", help: "Actor crashes", ...on });
  const outcomes = new Counter({
    name: "troupe_task_outcomes_total",
    help: "Finished task attempts by kind and outcome",
    labelNames: ["kind", "outcome"],
    ...on,
  });
  // One histogram over all kinds: per-kind durations are a query on the task_outcomes view.
  const durations = new Histogram({
    name: "troupe_task_duration_seconds",
    help: "Task attempt durations",
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120, 600],
    ...on,
  });
  const appended = new Counter({
    name: "troupe_ledger_events_total",
    help: "Events committed to the ledger",
    ...on,
  });
  const lag = new Histogram({
    name: "troupe_ledger_commit_lag_seconds",
    help: "Time from an append to its durable commit",
    buckets: [0.001, 0.002, 0.005, 0.01, 0.05, 0.1, 0.5, 1],
    ...on,
  });
  new Gauge({
    name: "troupe_ledger_head_seq",
    help: "Sequence number of the last committed event",
    ...on,
    collect() {
      this.set(ledger.head.seq);
    },
  });
  const tokens = new Counter({
    name: "troupe_llm_tokens_total",
    help: "Model tokens by model and direction",
    labelNames: ["model", "direction"],
    ...on,
  });
  const cost = new Counter({
    name: "troupe_llm_cost_usd_total",
    help: "Model spend in US dollars by model",
    labelNames: ["model"],
    ...on,
  });
  new Gauge({
    name: "troupe_mailbox_depth",
    help: "Messages waiting in each actor's mailbox",
    labelNames: ["actor"],
    ...on,
    collect() {
      this.reset();
      for (const e of system.registry.list()) this.set({ actor: e.id }, e.load.mailbox);
    },
  });
  new Gauge({
    name: "troupe_actor_messages_processed",
    help: "Messages each running actor has handled",
    labelNames: ["actor"],
    ...on,
    collect() {
      this.reset();
      for (const e of system.registry.list()) this.set({ actor: e.id }, e.load.processed);
    },
  });
  new Gauge({
    name: "troupe_actors",
    help: "Actors in the server's system",
    ...on,
    collect() {
      this.set(system.registry.list().length);
    },
  });

  const payload = (row: LedgerRow) => JSON.parse(row.payload) as Record<string, unknown>;
  const stop = ledger.onCommit((rows) => {
    const now = Date.now();
    appended.inc(rows.length);
    for (const row of rows) {
      lag.observe(Math.max(0, now - row.ts) / 1000);
      switch (row.type) {
        case "delivered":
          delivered.inc({ message_type: String(payload(row).messageType ?? "unknown") });
          break;
        case "restarted":
          restarts.inc();
          break;
        case "crashed":
          crashes.inc();
          break;
        case "task_succeeded":
        case "task_failed":
        case "task_dead":
        case "task_skipped": {
          const p = payload(row);
          const kind = String(p.kind ?? "unknown");
          outcomes.inc({ kind, outcome: row.type.slice(5) });
          if (typeof p.durationMs === "number") durations.observe(p.durationMs / 1000);
          break;
        }
        case "llm_call": {
          const p = payload(row);
          const model = String(p.model ?? "unknown");
          tokens.inc({ model, direction: "input" }, Number(p.inputTokens ?? 0));
          tokens.inc({ model, direction: "output" }, Number(p.outputTokens ?? 0));
          cost.inc({ model }, Number(p.costUsd ?? 0));
          break;
        }
      }
    }
  });
  return { registry, stop };
}
