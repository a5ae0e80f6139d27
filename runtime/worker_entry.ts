/// <reference lib="deno.worker" />
/**
 * What every worker actor runs. The worker's module is a small generated one that imports the
 * behaviour statically and calls `serve`: a permissionless worker may not read files itself,
 * and static imports are loaded for it.
 */
import {
  BehaviourRunner,
  checkBehaviour,
  type HandleOutcome,
  isPromise,
  type SystemPort,
} from "./behaviour_runner.ts";
import { fromErrorInfo, toErrorInfo } from "./errors.ts";
import type { Recovery } from "./journal.ts";
import { Pulse } from "./pulse.ts";
import { captureTrace, inTrace, tracing } from "./trace_context.ts";
import type { Fault, FromWorker, ToWorker } from "./worker_protocol.ts";

const post = (m: FromWorker) => self.postMessage(m);
const pendingAsks = new Map<number, PromiseWithResolvers<unknown>>();
let nextCorr = 0;
let runner: BehaviourRunner | undefined;
let definition: unknown;
let source = "";
let busyMs = 0;
let processed = 0;
let pulse: Pulse | undefined;

/** Sends a request to the main thread and waits for its `ask_result`. */
function request(make: (corr: number) => FromWorker): Promise<unknown> {
  const corr = ++nextCorr;
  const pending = Promise.withResolvers<unknown>();
  pendingAsks.set(corr, pending);
  post(make(corr));
  return pending.promise;
}

/** The `trace` field of what is sent from inside a traced span (none otherwise). */
function traced(): { trace?: string } {
  const trace = captureTrace();
  return trace ? { trace } : {};
}

const port: SystemPort = {
  tell: (_from, to, message, priority) => post({ t: "tell", to, message, priority, ...traced() }),
  ask: (_from, to, message, timeoutMs) =>
    request((corr) => ({ t: "ask", corr, to, message, timeoutMs, ...traced() })),
  persist: async (_actor, event) => void await request((corr) => ({ t: "persist", corr, event })),
  snapshot: async (_actor, state) => void await request((corr) => ({ t: "snapshot", corr, state })),
  recover: (_actor) => request((corr) => ({ t: "recover", corr })) as Promise<Recovery>,
  publish: (_from, topic, message) => post({ t: "publish", topic, message, ...traced() }),
  subscribe: (_actor, topic) => post({ t: "subscribe", topic }),
  log: (_actor, level, text) => post({ t: "log", level, text }),
};

let heartbeatMs = 250;
let working = 0;
let beating: ReturnType<typeof setInterval> | undefined;

/**
 * Beats only while there is work (init, batches, terminate): a stuck thread stops beating and
 * the host's watchdog, which watches only then too, notices; an idle worker wakes for nothing.
 */
function busy(): void {
  if (working++ > 0) return;
  pulse?.beat();
  beating ??= setInterval(beat, heartbeatMs);
}

function idle(): void {
  working--;
}

/**
 * The beat; it stops itself at its first tick with no work (cheaper than a timer per batch).
 * Each tick also reports the heap, so that the host sees a leak within a long message and one
 * spread over many short ones (the read costs ~8 µs: a tick's, not a message's).
 */
function beat(): void {
  pulse?.heap(Deno.memoryUsage().heapUsed);
  if (working > 0) return pulse?.beat();
  clearInterval(beating);
  beating = undefined;
}

/** Misbehaviour injected by a chaos test, done in place of the next message. */
let fault: Fault | undefined;

/** What a faulty behaviour does; none of it returns until the host stops the worker. */
async function misbehave(f: Fault): Promise<void> {
  if (f === "spin") { for (;;) Math.random(); }
  if (f === "hang") await new Promise(() => {});
  // Heap (not ArrayBuffers, which live outside it): 8 MiB of numbers every 20 ms, ~400 MiB a
  // second, slow enough to be caught well before V8's own limit on a small machine.
  const kept: number[][] = [];
  for (;;) {
    kept.push(new Array(2 ** 20).fill(Math.random()));
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Batches wait their turn here; none starts before the one before it is done. */
let batches: Promise<void> = Promise.resolve();
/** The incarnation crashed or was asked to stop: later batches are not handled. */
let ended = false;

async function runBatch(
  n: number,
  messages: unknown[],
  asks: number[] = [],
  traces?: (string | null)[],
): Promise<void> {
  if (ended) {
    post({ t: "batch_done", n, outcomes: [], skipped: true });
    return;
  }
  const busySince = performance.now();
  const outcomes: (HandleOutcome | 0)[] = [];
  let ask = 0; // the next of `asks`, in order
  let crash: { index: number; error: ReturnType<typeof toErrorInfo> } | undefined;
  for (let i = 0; i < messages.length; i++) {
    try {
      if (fault) await misbehave(fault);
      // Traced, handled in its sender's context: what it sends and records is of that trace.
      const result = tracing
        ? inTrace(traces?.[i] ?? undefined, () => runner!.handle(messages[i]))
        : runner!.handle(messages[i]);
      const outcome = isPromise<HandleOutcome>(result) ? await result : result;
      const wanted = asks[ask] === i;
      if (wanted) ask++;
      // A reply nobody waits for (a tell's) is not sent back.
      if (outcome.kind !== "ok") outcomes.push(outcome);
      else if (!outcome.stop && !outcome.durable && (!wanted || outcome.reply === undefined)) {
        outcomes.push(0);
      } else outcomes.push(wanted ? outcome : { ...outcome, reply: undefined });
      processed++;
      // The host reads this if the worker dies mid-batch: how far it got (busy time is
      // brought up to date at the batch's end: a clock read costs more than a message).
      pulse?.record(busyMs, processed);
      if (outcome.kind === "ok" && outcome.stop) {
        ended = true;
        break;
      }
    } catch (err) {
      crash = { index: i, error: toErrorInfo(err) };
      ended = true;
      break;
    }
  }
  // Replies wait for the batch's events to be stored (one commit for many messages); a batch
  // whose events could not be stored ends at the first message whose events failed.
  for (let i = 0; i < outcomes.length; i++) {
    const o = outcomes[i];
    if (o === 0 || o.kind !== "ok" || !o.durable) continue;
    try {
      await o.durable;
      outcomes[i] = o.reply === undefined && !o.stop
        ? 0
        : { kind: "ok", reply: o.reply, stop: o.stop };
    } catch (err) {
      crash = { index: i, error: toErrorInfo(err) };
      outcomes.length = i;
      ended = true;
      break;
    }
  }
  busyMs += performance.now() - busySince;
  pulse?.record(busyMs, processed);
  // The usual batch, all handled with nothing to say, is answered with a count.
  const usual = outcomes.every((o) => o === 0);
  post({
    t: "batch_done",
    n,
    outcomes: usual ? outcomes.length : outcomes,
    ...(crash ? { crash } : {}),
  });
}

async function onMessage(m: ToWorker): Promise<void> {
  switch (m.t) {
    case "init": {
      // Beats start before `init` runs and stop when the thread is stuck; the host's watchdog
      // notices.
      pulse = new Pulse(m.pulse);
      heartbeatMs = m.heartbeatMs;
      busy();
      try {
        runner = new BehaviourRunner(m.id, checkBehaviour(definition, source), port);
        await runner.init(m.args);
      } catch (err) {
        post({ t: "init_failed", error: toErrorInfo(err) });
        return;
      } finally {
        idle();
      }
      post({ t: "ready" });
      return;
    }
    case "batch":
      // One batch after another, even when a handler awaits: one message at a time.
      busy();
      batches = batches.then(() => runBatch(m.n, m.messages, m.asks, m.traces)).finally(idle);
      return;
    case "ask_result": {
      const pending = pendingAsks.get(m.corr);
      pendingAsks.delete(m.corr);
      if (!pending) return;
      if (m.ok) pending.resolve(m.value);
      else pending.reject(fromErrorInfo(m.error ?? { name: "Error", message: "ask failed" }));
      return;
    }
    case "fault":
      fault = m.fault;
      return;
    case "terminate": {
      busy();
      try {
        await runner?.terminate(m.reason);
      } finally {
        idle();
        post({ t: "terminated" });
      }
      return;
    }
  }
}

export function serve(behaviour: unknown, url: string): void {
  definition = behaviour;
  source = url;
  self.onmessage = (e: MessageEvent<ToWorker>) => void onMessage(e.data);
}
