import type { Ledger } from "./ledger.ts";
import type { LedgerRow } from "./ledger_event.ts";

/** One line of a run's story: its event's seq, time and what happened. */
export interface StoryLine {
  seq: number;
  at: string;
  actor: string;
  type: string;
  text: string;
}

// deno-lint-ignore no-explicit-any -- payloads are JSON of many event shapes
function describe(row: LedgerRow, p: Record<string, any>): string {
  switch (row.type) {
    case "delivered":
      return `${p.from ?? "outside"} -> ${row.actor}: ${p.messageType}${
        p.priority === "normal" ? "" : ` (${p.priority})`
      }`;
    case "dead_letter":
      return `undeliverable ${p.messageType} to ${row.actor}: ${String(p.reason).split("\n")[0]}`;
    case "spawned":
      return `${row.actor} started (${p.isolation}, incarnation ${p.incarnation})`;
    case "stopped":
      return `${row.actor} stopped (${p.reason})`;
    case "crashed":
      return `${row.actor} crashed: ${p.error?.message}`;
    case "restarted":
      return `${p.supervisor} restarted ${row.actor} (restart ${p.restarts})`;
    case "escalated":
      return `${row.actor} gave up and escalated: ${p.reason}`;
    case "ask_timeout":
      return `ask ${p.messageType} to ${row.actor} timed out after ${p.timeoutMs} ms`;
    case "unresponsive":
      return `${row.actor} was silent for ${Math.round(p.silentMs)} ms and was terminated`;
    case "log":
      return `${row.actor} [${p.level}] ${p.text}`;
    default:
      return `${row.actor} ${row.type} ${row.payload === "null" ? "" : row.payload}`.trim();
  }
}

/** The ordered story of a run: who sent what to whom, decisions and failures. */
export async function replayRun(ledger: Ledger, runId: string): Promise<StoryLine[]> {
  const story: StoryLine[] = [];
  for await (const row of ledger.rows({ runId })) {
    story.push({
      seq: row.seq,
      at: new Date(row.ts).toISOString(),
      actor: row.actor,
      type: row.type,
      text: describe(row, JSON.parse(row.payload) ?? {}),
    });
  }
  return story;
}
