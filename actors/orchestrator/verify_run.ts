import { join } from "node:path";
import { Ledger } from "../../ledger/mod.ts";
import { TroupeError } from "../../runtime/errors.ts";
import { type Effect, stablePath, SystemEvent } from "../../runtime/mod.ts";
import type { RecordedOutcomes } from "./orchestrator.ts";
import {
  comparedCount,
  type CompareOptions,
  type Divergence,
  firstDivergence,
  type RunEvent,
} from "./run_divergence.ts";
import type { RunSettings } from "./run_events.ts";
import type { RunEnvironment } from "./run_request.ts";
import { newRunId } from "./new_run.ts";
import { RunSession } from "./run_session.ts";

/** What `replay --verify` found. */
export interface VerifyResult {
  runId: string;
  /** Events of the recorded run, and how many of them the comparison covers. */
  events: number;
  compared: number;
  /** The first place the code now does otherwise; none when it did the same throughout. */
  divergence?: Divergence;
  /** Agents whose code is not the version the run recorded: whose behaviour may have changed. */
  changed: { agent: string; recorded: string; now: string }[];
}

/** Events that are not the code's decisions: actors' lifecycle, people's votes and cancels. */
const NOT_BEHAVIOUR = new Set([
  ...SystemEvent.options.map((o) => o.shape.type.value as string),
  "approval_requested",
  "approval_vote_counted",
  "approval_vote_refused",
  "approval_decided",
  "file_applied",
  "run_cancel_requested",
  "stream_dropped",
]);
/**
 * Fields that measure how long, say a value was given again and so not paid again (its cost),
 * or name code versions (reported on their own, as `changed`), rather than decide.
 */
const MEASURES = new Set(["durationMs", "replayedFrom", "costUsd", "priced", "agents"]);

/**
 * Re-executes a recorded run and compares what the code does now with what it did then, event by
 * event. Nothing outside is called: model answers and tool results come from the run's record,
 * each agent's effects (processes, reports they left, the clock, random numbers) are fed back in
 * order and its reads of the repository checked against their recorded digests, approvals and
 * the apply step are taken as they went; the agents run without permission to start a process.
 * The re-execution writes to a throwaway ledger, never to `ledger`.
 */
export async function verifyRun(
  ledger: Ledger,
  runId: string,
  env: RunEnvironment = {},
): Promise<VerifyResult> {
  if (!ledger.readOnly) await ledger.flush(); // what was just recorded is part of the run
  const recorded = await runEvents(ledger, runId);
  const started = recorded.find((e) => e.type === "run_started");
  if (!started) {
    throw new TroupeError("not_found", `no run "${runId}" in ${ledger.path}`, { runId });
  }
  const settings = started.payload as RunSettings;
  const dir = await Deno.makeTempDir({ prefix: "troupe-verify-" });
  const scratch = await Ledger.open(join(dir, "replay.duckdb"));
  try {
    // What the run's code read from the ledger (lessons of earlier runs) and what answers it.
    const lessons = await ledger.select(
      `SELECT actor, run_id, payload FROM events WHERE type = 'lesson' AND seq < $seq ORDER BY seq`,
      { seq: started.seq },
    );
    for (const r of lessons) {
      await scratch.append({
        runId: r.run_id === null ? null : String(r.run_id),
        actor: String(r.actor),
        type: "lesson",
        payload: parse(r.payload),
      });
    }
    for (const e of recorded.filter((e) => e.type === "llm_call" || e.type === "tool_call")) {
      await scratch.append({ runId, actor: e.actor, type: e.type, payload: e.payload });
    }
    const finished = recorded.findLast((e) => e.type === "run_finished")?.payload as
      | { applied: string[]; refused?: string }
      | undefined;
    const replayId = newRunId();
    const reused = recorded.filter((e) =>
      e.type === "task_succeeded" && (e.payload as { forkedFrom?: string }).forkedFrom
    );
    const session = await RunSession.reenact(
      scratch,
      replayId,
      settings,
      reused.map((e) => ({ actor: e.actor, payload: e.payload as never })),
      {
        ...env,
        reenact: {
          from: runId,
          outcomes: outcomesOf(recorded),
          out: join(dir, "out"),
          finished: { applied: finished?.applied ?? [], refused: finished?.refused },
        },
      },
    );
    await session.run();
    await scratch.flush();
    const actual = await runEvents(scratch, replayId);
    const compare: CompareOptions = {
      skip: (e) =>
        NOT_BEHAVIOUR.has(e.type) ||
        // The apply step's write decisions: not made again (see `reenact.finished`).
        (e.type === "policy_decision" &&
          /^fs\./.test(String((e.payload as { request?: { action?: string } }).request?.action))),
      skipFields: MEASURES,
      rename: (text) => stablePath(text.replaceAll(replayId, runId)),
    };
    const divergence = firstDivergence(recorded, actual, compare);
    return {
      runId,
      events: recorded.length,
      compared: comparedCount(recorded, compare),
      ...(divergence ? { divergence } : {}),
      changed: changedAgents(recorded, actual),
    };
  } finally {
    await scratch.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** Every event of a run, in order. */
async function runEvents(ledger: Ledger, runId: string): Promise<RunEvent[]> {
  const rows = await ledger.select(
    "SELECT seq, type, actor, payload FROM events WHERE run_id = $runId ORDER BY seq",
    { runId },
  );
  return rows.map((r) => ({
    seq: Number(r.seq),
    type: String(r.type),
    actor: String(r.actor),
    payload: parse(r.payload),
  }));
}

function parse(payload: unknown): unknown {
  return typeof payload === "string" ? JSON.parse(payload) : payload;
}

/** What the recorded run's tasks got from outside: see `RecordedOutcomes`. */
function outcomesOf(events: RunEvent[]): RecordedOutcomes {
  const attempts = new Map<string, { effects: Effect[] } | { failure: string }>();
  const refusals = new Map<string, string>();
  for (const e of events) {
    const p = e.payload as {
      taskId?: string;
      attempt?: number;
      attempts?: number;
      effects?: Effect[];
      cause?: string;
      forkedFrom?: string;
    };
    const key = `${p.taskId}#${p.attempt}`;
    if (e.type === "task_succeeded" && !p.forkedFrom) {
      attempts.set(key, { effects: p.effects ?? [] });
    }
    if (e.type === "task_failed") {
      attempts.set(key, p.effects ? { effects: p.effects } : { failure: p.cause ?? "" });
    }
    if (e.type === "task_dead" && p.attempts === 0) {
      refusals.set(p.taskId!, (p.cause ?? "").replace(/^policy: /, ""));
    }
  }
  return {
    attempt: (taskId, attempt) => attempts.get(`${taskId}#${attempt}`),
    refusal: (taskId) => refusals.get(taskId),
  };
}

/** Agents whose recorded code version (in `run_planned`) differs from the one that ran now. */
function changedAgents(recorded: RunEvent[], actual: RunEvent[]): VerifyResult["changed"] {
  const versions = (events: RunEvent[]) =>
    (events.findLast((e) => e.type === "run_planned")?.payload as {
      agents?: Record<string, string>;
    } | undefined)?.agents ?? {};
  const [then, now] = [versions(recorded), versions(actual)];
  return Object.keys(then).filter((a) => now[a] !== undefined && now[a] !== then[a]).sort()
    .map((agent) => ({ agent, recorded: then[agent], now: now[agent] }));
}
