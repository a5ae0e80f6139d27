import { type ActorHost, BatchFailure, type BatchResult, type HostLoad } from "./actor_host.ts";
import type { HandleOutcome, SystemPort } from "./behaviour_runner.ts";
import { type ActorSpec, denoPermissions } from "./actor_spec.ts";
import { waitAtMost } from "./deadline.ts";
import { fromErrorInfo, toErrorInfo, TroupeError } from "./errors.ts";
import { Pulse } from "./pulse.ts";
import { inTrace, tracing } from "./trace_context.ts";
import { type Fault, FromWorker, type ToWorker } from "./worker_protocol.ts";
import { ProcessWorker, type WorkerLike } from "./process_worker.ts";

const ENTRY = new URL("./worker_entry.ts", import.meta.url);
/** What a `0` in a batch's outcomes stands for. */
const NOTHING: HandleOutcome = Object.freeze({ kind: "ok", reply: undefined, stop: false });
/**
 * How long a new worker may take to load its code before its first beat: loading may include
 * compiling or type-checking the behaviour on a busy machine. From the first beat on (`init`
 * included), `unresponsiveAfterMs` applies.
 */
const LOAD_LIMIT_MS = 30_000;
/** How long a traced process that was asked to stop may take to export its spans and exit. */
const FLUSH_MS = 10_000;

/**
 * Runs a behaviour in a Deno Worker of its own (`isolation: "worker"`) or a Deno process of its
 * own (`"process"`), with the spec's permissions. A watchdog kills the worker when its pulse
 * stops (a stuck thread cannot beat). Silence is judged from the beats in shared memory, which
 * the worker makes whether or not this thread is free to look. Only a process is sure to stop:
 * a web Worker spinning in a loop keeps its thread after `terminate()`.
 */
export class WorkerActorHost implements ActorHost {
  #worker?: WorkerLike;
  #dead = false;
  #watchdog?: ReturnType<typeof setInterval>;
  #lastSeen = performance.now();
  #pulse = new Pulse();
  #beatsSeen = 0;
  #processed = 0;
  #n = 0;
  /**
   * Batches sent and not answered, oldest first (the worker answers in order). `#from`: the
   * worker's processed count when the oldest began, to tell how far it got if the worker dies.
   */
  #inFlight: { n: number; pending: PromiseWithResolvers<BatchResult> }[] = [];
  #from = 0;
  #starting?: PromiseWithResolvers<void>;
  #terminating?: PromiseWithResolvers<void>;
  onFailure: (error: Error) => void = () => {};

  constructor(readonly spec: ActorSpec, readonly port: SystemPort) {}

  start(): Promise<void> {
    const { id, heartbeatMs } = this.spec;
    this.#starting = Promise.withResolvers<void>();
    const url = new URL(this.spec.behaviour as string, ENTRY).href;
    // Deterministic per behaviour, so that a type-checking host checks it once.
    const main = "data:text/javascript," + encodeURIComponent(
      `import * as behaviour from ${JSON.stringify(url)};\n` +
        `import { serve } from ${JSON.stringify(ENTRY.href)};\n` +
        `serve(behaviour.default, ${JSON.stringify(url)});\n`,
    );
    const permissions = denoPermissions(this.spec.permissions);
    const worker: WorkerLike = this.spec.isolation === "process"
      ? new ProcessWorker(main, {
        name: `actor "${id}"`,
        permissions,
        maxHeapMb: this.spec.maxHeapMb,
      })
      : new Worker(main, { type: "module", name: id, deno: { permissions } });
    this.#worker = worker;
    worker.onmessage = (e) => this.#receive(e.data);
    worker.onerror = (e) => {
      e.preventDefault(); // an uncaught error in a worker must not take the system down
      const where = this.#starting ? "while loading or starting" : "outside a message";
      this.#fail(
        new TroupeError("actor_crashed", `actor "${id}" threw ${where}: ${e.message}`, {
          actor: id,
        }),
      );
    };
    worker.onmessageerror = () =>
      this.port.log(id, "warn", "a message from the worker could not be read");
    this.#watch();
    this.#post({
      t: "init",
      id,
      args: this.spec.args,
      heartbeatMs,
      pulse: this.#pulse.buffer,
    });
    return this.#starting.promise;
  }

  async handle(message: unknown): Promise<HandleOutcome> {
    const { outcomes, crash } = await this.handleBatch([message], [0]);
    if (crash) throw crash.error;
    return outcomes[0];
  }

  handleBatch(
    messages: unknown[],
    asks: number[] = [],
    traces?: (string | null)[],
  ): Promise<BatchResult> {
    if (this.#dead) {
      return Promise.reject(
        new BatchFailure(
          new TroupeError("actor_stopped", `actor "${this.spec.id}" is not running`),
          0,
        ),
      );
    }
    const n = ++this.#n;
    const pending = Promise.withResolvers<BatchResult>();
    try {
      this.#worker!.postMessage(
        {
          t: "batch",
          n,
          messages,
          ...(asks.length > 0 ? { asks } : {}),
          ...(traces ? { traces } : {}),
        } satisfies ToWorker,
      );
    } catch (err) {
      // One message that cannot cross (a function, say) must not sink the others: send them
      // one by one and refuse only those that cannot be copied.
      if (messages.length > 1) return this.#oneByOne(messages, asks, traces);
      return Promise.resolve({
        outcomes: [{
          kind: "invalid",
          reason: `message cannot be sent to a worker: ${(err as Error).message}`,
        }],
      });
    }
    if (this.#inFlight.length === 0) {
      this.#from = this.#processed;
      this.#watch();
    }
    this.#inFlight.push({ n, pending });
    return pending.promise;
  }

  /** A batch that could not be copied as a whole, sent a message at a time. */
  async #oneByOne(
    messages: unknown[],
    asks: number[],
    traces?: (string | null)[],
  ): Promise<BatchResult> {
    const outcomes: HandleOutcome[] = [];
    for (let i = 0; i < messages.length; i++) {
      let result: BatchResult;
      try {
        const trace = traces?.[i];
        result = await this.handleBatch(
          [messages[i]],
          asks.includes(i) ? [0] : [],
          trace ? [trace] : undefined,
        );
      } catch (err) {
        const e = err as BatchFailure;
        throw new BatchFailure(e.failure ?? e, outcomes.length + (e.handled ?? 0));
      }
      if (result.crash) return { outcomes, crash: { index: i, error: result.crash.error } };
      outcomes.push(result.outcomes[0]);
      if (result.outcomes[0].kind === "ok" && result.outcomes[0].stop) break;
    }
    return { outcomes };
  }

  async terminate(reason: "normal" | "shutdown", deadlineMs: number): Promise<void> {
    if (this.#dead) return;
    this.#terminating = Promise.withResolvers<void>();
    this.#watch();
    this.#post({ t: "terminate", reason });
    let acknowledged = false;
    await waitAtMost(this.#terminating.promise.then(() => acknowledged = true), deadlineMs);
    // A traced process exits by itself, so that its last spans are exported, not killed with it.
    if (acknowledged && tracing && this.#worker instanceof ProcessWorker) {
      await this.#worker.close(FLUSH_MS);
    }
    this.kill();
  }

  injectFault(fault: Fault): void {
    this.#post({ t: "fault", fault });
  }

  kill(): void {
    if (this.#dead) return;
    this.#dead = true;
    clearInterval(this.#watchdog);
    this.#worker?.terminate();
    this.#reject(new TroupeError("actor_stopped", `actor "${this.spec.id}" was stopped`));
  }

  load(): HostLoad {
    this.#sample();
    const processed = Math.max(this.#processed, this.#pulse.processed);
    return { busyMs: this.#pulse.busyMs, processed, lastSeen: this.#lastSeen };
  }

  /** A beat since the last look means the worker was alive at some point since then. */
  #sample(): void {
    const beats = this.#pulse.beats;
    if (beats === this.#beatsSeen) return;
    this.#beatsSeen = beats;
    this.#lastSeen = performance.now();
  }

  #post(m: ToWorker): void {
    if (this.#dead) return;
    try {
      this.#worker?.postMessage(m);
    } catch (err) {
      this.port.log(
        this.spec.id,
        "warn",
        `could not send "${m.t}" to the worker: ${(err as Error).message}`,
      );
    }
  }

  /** Sends the outcome of a worker's request back to it. */
  #answer(corr: number, work: Promise<unknown>): void {
    work.then(
      (value) => this.#post({ t: "ask_result", corr, ok: true, value }),
      (err) =>
        this.#post({ t: "ask_result", corr, ok: false, value: undefined, error: toErrorInfo(err) }),
    );
  }

  /**
   * Watches the worker's pulse while it has work (loading, a batch, `terminate`). An idle worker
   * neither beats nor is watched: it cannot be stuck in a message it does not have, and its
   * timers would wake both threads for nothing. Watching starts with a fresh silence window.
   */
  #watch(): void {
    if (this.#dead) return;
    this.#lastSeen = performance.now();
    this.#beatsSeen = this.#pulse.beats;
    if (this.#watchdog !== undefined) return; // still running from the last work
    // Looking four times per silence limit is enough to catch a stuck thread within 1.25 of it,
    // and wakes this thread less often than beats come.
    const look = Math.max(this.spec.heartbeatMs, Math.floor(this.spec.unresponsiveAfterMs / 4));
    this.#watchdog = setInterval(() => this.#checkPulse(), look);
  }

  /** Has work: loading, batches in flight, or `terminate`. */
  get #working(): boolean {
    return !!this.#starting || !!this.#terminating || this.#inFlight.length > 0;
  }

  #checkPulse(): void {
    // Stopped from here, at its next look, rather than when the work ends: back-to-back asks
    // would otherwise arm and clear a timer each.
    if (!this.#working) {
      clearInterval(this.#watchdog);
      this.#watchdog = undefined;
      return;
    }
    this.#sample();
    if (this.#overMemory()) return;
    const silentMs = performance.now() - this.#lastSeen;
    const limit = this.#beatsSeen === 0 ? LOAD_LIMIT_MS : this.spec.unresponsiveAfterMs;
    if (silentMs <= limit) return;
    this.#fail(
      new TroupeError(
        "unresponsive",
        `actor "${this.spec.id}" made no heartbeat for ${Math.round(silentMs)} ms ` +
          `(limit ${limit} ms); its worker was terminated`,
        { actor: this.spec.id, silentMs },
      ),
    );
  }

  /** Terminates a worker whose heap has grown past the spec's `maxHeapMb`; true if it had. */
  #overMemory(): boolean {
    const mb = this.#pulse.heapBytes / 2 ** 20;
    if (mb <= this.spec.maxHeapMb) return false;
    this.#fail(
      new TroupeError(
        "over_memory",
        `actor "${this.spec.id}" held ${Math.round(mb)} MiB of heap, over its limit of ` +
          `${this.spec.maxHeapMb} MiB (maxHeapMb); its worker was terminated`,
        { actor: this.spec.id, heapMb: Math.round(mb) },
      ),
    );
    return true;
  }

  /** Fails the batches in flight, saying how many of the oldest's messages the worker completed. */
  #reject(error: Error): void {
    const inFlight = this.#inFlight;
    this.#inFlight = [];
    inFlight.forEach((b, i) =>
      b.pending.reject(new BatchFailure(error, i === 0 ? this.#pulse.processed - this.#from : 0))
    );
  }

  /** Kills the worker and reports the failure once: to the waiting caller, else to the owner. */
  #fail(error: Error): void {
    if (this.#dead) return;
    const inFlight = this.#inFlight.length > 0;
    this.#reject(error);
    this.kill();
    if (this.#starting) {
      this.#starting.reject(error);
      this.#starting = undefined;
    } else if (inFlight) {
      // reported to the caller by the batch's rejection
    } else {
      this.#terminating?.resolve();
      this.onFailure(error);
    }
  }

  #receive(data: unknown): void {
    this.#lastSeen = performance.now();
    const parsed = FromWorker.safeParse(data);
    if (!parsed.success) {
      this.port.log(
        this.spec.id,
        "warn",
        `ignored a malformed message from the worker: ${parsed.error.message}`,
      );
      return;
    }
    const m = parsed.data;
    const id = this.spec.id;
    switch (m.t) {
      case "ready":
        this.#starting?.resolve();
        this.#starting = undefined;
        return;
      case "init_failed":
        this.#fail(fromErrorInfo(m.error));
        return;
      case "batch_done": {
        if (this.#inFlight[0]?.n !== m.n) return;
        const { pending } = this.#inFlight.shift()!;
        const outcomes = typeof m.outcomes === "number"
          ? new Array<HandleOutcome>(m.outcomes).fill(NOTHING)
          : m.outcomes.map((o) => o === 0 ? NOTHING : o);
        this.#processed += outcomes.length; // before the worker's own count is read
        this.#from = this.#processed;
        // A crashed incarnation is over: the messages after the crash go to the next one.
        if (m.crash) this.kill();
        pending.resolve({
          outcomes,
          ...(m.crash
            ? { crash: { index: m.crash.index, error: fromErrorInfo(m.crash.error) } }
            : {}),
          ...(m.skipped ? { skipped: true } : {}),
        });
        // Its answers stand; past its heap limit, the next message finds a fresh incarnation.
        if (!m.crash) this.#overMemory();
        return;
      }
      // Sent from a traced span: delivered inside its context, which the envelope then carries.
      case "tell":
        inTrace(m.trace, () => this.port.tell(id, m.to, m.message, m.priority));
        return;
      case "ask":
        this.#answer(
          m.corr,
          inTrace(m.trace, () => this.port.ask(id, m.to, m.message, m.timeoutMs)),
        );
        return;
      case "persist":
        this.#answer(m.corr, this.port.persist(id, m.event));
        return;
      case "snapshot":
        this.#answer(m.corr, this.port.snapshot(id, m.state));
        return;
      case "recover":
        this.#answer(m.corr, this.port.recover(id));
        return;
      case "publish":
        inTrace(m.trace, () => this.port.publish(id, m.topic, m.message));
        return;
      case "subscribe":
        this.port.subscribe(id, m.topic);
        return;
      case "log":
        this.port.log(id, m.level, m.text);
        return;
      case "terminated":
        this.#terminating?.resolve();
        return;
    }
  }
}
