import { canonicalJson } from "../../runtime/canonical_json.ts";

/** One event of a run as a replay compares it. */
export interface RunEvent {
  seq: number;
  type: string;
  actor: string;
  payload: unknown;
}

/**
 * Where a re-executed run first differs from its record: the task (or actor) whose events
 * differ, the step (the event's place among that task's events), the agent, both events, and
 * the field that differs (`output.findings[2].path`); no `actual` when the code did not produce
 * the recorded event, no `expected` when it produced one more.
 */
export interface Divergence {
  task: string;
  step: number;
  agent: string;
  field: string;
  expected?: RunEvent;
  actual?: RunEvent;
}

/** How two runs' events are lined up and what is left out of the comparison. */
export interface CompareOptions {
  /** Events that are not the code's behaviour (actors' lifecycle, people's votes). */
  skip: (e: RunEvent) => boolean;
  /** Fields that measure rather than decide (durations). */
  skipFields: ReadonlySet<string>;
  /** Text that names the run rather than what it did (its id, temporary folders): replaced. */
  rename: (text: string) => string;
}

/**
 * The first place, in the recorded order, where the events of `actual` differ from those of
 * `expected`. Events are lined up per task (per actor for those of no task), because tasks run
 * in parallel and interleave differently each time; within a task, order is the code's.
 */
export function firstDivergence(
  expected: RunEvent[],
  actual: RunEvent[],
  o: CompareOptions,
): Divergence | undefined {
  const mine = threads(expected, o);
  const theirs = threads(actual, o);
  for (const e of expected) {
    const at = mine.place.get(e);
    if (!at) continue;
    const a = theirs.byThread.get(at.thread)?.[at.step];
    const field = a ? differingField(e, a, o) : "(missing)";
    if (field !== undefined) {
      return {
        task: at.thread,
        step: at.step,
        agent: agentOf(e.actor),
        field,
        expected: e,
        actual: a,
      };
    }
  }
  for (const [thread, events] of theirs.byThread) {
    const recorded = mine.byThread.get(thread)?.length ?? 0;
    if (events.length > recorded) {
      const extra = events[recorded];
      return {
        task: thread,
        step: recorded,
        agent: agentOf(extra.actor),
        field: "(extra)",
        actual: extra,
      };
    }
  }
  return undefined;
}

/** How many events take part in the comparison. */
export function comparedCount(events: RunEvent[], o: CompareOptions): number {
  return events.filter((e) => !o.skip(e)).length;
}

/** An agent's template name from its actor id (`ab12cd34.detector-2` → `detector`). */
export function agentOf(actor: string): string {
  return actor.replace(/^[0-9a-f]{8}\./, "").replace(/-\d+$/, "");
}

function threads(events: RunEvent[], o: CompareOptions) {
  const byThread = new Map<string, RunEvent[]>();
  const place = new Map<RunEvent, { thread: string; step: number }>();
  for (const e of events) {
    if (o.skip(e)) continue;
    const thread = threadOf(e);
    const list = byThread.get(thread) ?? [];
    place.set(e, { thread, step: list.length });
    list.push(e);
    byThread.set(thread, list);
  }
  return { byThread, place };
}

/**
 * The sequence an event belongs to: its task; a policy decision's actor and action (the gates of
 * parallel tasks are decided in the order tasks become ready); else its agent.
 */
function threadOf(e: RunEvent): string {
  const p = e.payload as { taskId?: unknown; request?: { action?: unknown } } | null;
  if (typeof p?.taskId === "string") return p.taskId;
  const action = e.type === "policy_decision" ? p?.request?.action : undefined;
  return typeof action === "string" ? `${agentOf(e.actor)} ${action}` : agentOf(e.actor);
}

/** The first field (a path) where two events differ, or nothing when they are the same. */
function differingField(e: RunEvent, a: RunEvent, o: CompareOptions): string | undefined {
  if (e.type !== a.type) {
    // A task that failed on replay failed at an effect: that effect is the place to show.
    const effects = (x: RunEvent) => (x.payload as { effects?: unknown } | null)?.effects;
    return firstDifference(effects(e), effects(a), "effects", o) ?? "type";
  }
  if (agentOf(e.actor) !== agentOf(a.actor)) return "actor";
  return firstDifference(e.payload, a.payload, "", o);
}

function firstDifference(
  x: unknown,
  y: unknown,
  path: string,
  o: CompareOptions,
): string | undefined {
  if (typeof x === "string" && typeof y === "string") {
    return o.rename(x) === o.rename(y) ? undefined : path || "payload";
  }
  if (Array.isArray(x) && Array.isArray(y)) {
    for (let i = 0; i < Math.max(x.length, y.length); i++) {
      const d = firstDifference(x[i], y[i], `${path}[${i}]`, o);
      if (d !== undefined) return d;
    }
    return undefined;
  }
  if (isObject(x) && isObject(y)) {
    const keys = [...new Set([...Object.keys(x), ...Object.keys(y)])].sort();
    for (const k of keys) {
      if (o.skipFields.has(k)) continue;
      const d = firstDifference(x[k], y[k], path ? `${path}.${k}` : k, o);
      if (d !== undefined) return d;
    }
    return undefined;
  }
  return canonicalJson(x) === canonicalJson(y) ? undefined : path || "payload";
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The value at a path `firstDivergence` reported (`output.files[0].content`). */
export function valueAt(value: unknown, path: string): unknown {
  if (!path || path.startsWith("(")) return value;
  let v = value;
  for (const part of path.match(/[^.[\]]+/g) ?? []) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}
