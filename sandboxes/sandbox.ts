import { noPermissions } from "./no_permissions.ts";
import { SandboxError, type SandboxErrorKind } from "./sandbox_error.ts";
import { CallChannel } from "./call_channel.ts";
import { type PluginManifest, readPluginWasm } from "./plugin_manifest.ts";
import { capMemory, checkExports, checkImports, inspectWasm } from "./wasm_module.ts";
import { FUEL_PER_MS, meterFuel } from "./fuel.ts";
import { FromSandbox, type LoadRequest, type ToSandbox } from "./sandbox_protocol.ts";
import type { HostFunctionName } from "./host_function_names.ts";
import { Buffer } from "node:buffer";
import { currentEffects, ProcessWorker, type WorkerLike } from "../runtime/mod.ts";

const WORKER = new URL("./sandbox_worker.ts", import.meta.url);
// A worker without read permission cannot load a file as its main module; a data: module that
// imports it statically can.
const WORKER_MAIN = "data:text/javascript," +
  encodeURIComponent(`import ${JSON.stringify(WORKER.href)};`);

/** Answers a plugin's host call; a thrown error becomes `{"error": message}` for the plugin. */
export type HostHandler = (fn: HostFunctionName, request: unknown) => Promise<unknown>;

/** Where a sandbox's host calls and the plugin's log lines go; the wasm bytes when they are not read from the manifest's file. */
export interface SandboxOptions {
  /**
   * Where the plugin runs: a process of its own (the default), SIGKILLed when a call overruns its
   * time limit, or a worker thread of this process (`"thread"`: calls cost ~20 µs instead of
   * ~150, but a plugin that spins where fuel cannot stop it keeps the thread's core for as long
   * as this process lives, since Deno's `terminate()` does not stop a spinning thread).
   */
  isolation?: "process" | "thread";
  /** The module's bytes, when they were not read from `manifest.wasm` (they are not re-hashed). */
  wasm?: Uint8Array;
  host?: HostHandler;
  onLog?: (level: string, text: string) => void;
}

/** What a plugin call returned. */
export class PluginResult {
  constructor(readonly bytes: Uint8Array | null) {}
  /** The output as UTF-8 text. */
  text(): string {
    return this.bytes ? new TextDecoder().decode(this.bytes) : "";
  }
  /** The output parsed as JSON. */
  json<T = Record<string, unknown>>(): T {
    return JSON.parse(this.text());
  }
}

interface Pending {
  n: number;
  resolve(r: PluginResult): void;
  reject(e: Error): void;
}

/**
 * One plugin in a process (or worker thread) of its own with no permissions, time and memory
 * limits, and only the host functions it requested. Calls run one at a time; in a thread, through
 * shared memory when they fit (`CallChannel`). A call that overruns its time limit kills the
 * process (or terminates the worker); the next call starts a fresh instance.
 */
export class Sandbox {
  #worker?: WorkerLike;
  #channel?: CallChannel;
  #ready?: Promise<void>;
  #pending?: Pending;
  #queue: Promise<unknown> = Promise.resolve();
  #n = 0;
  #closed = false;
  /** How many times the plugin was started (1 + restarts after a timeout or close). */
  starts = 0;

  private constructor(
    readonly manifest: PluginManifest,
    readonly hostFunctions: string[],
    readonly exports: string[],
    readonly imports: string[],
    readonly wasm: Uint8Array,
    readonly options: SandboxOptions,
    /** Why the module runs without fuel (only its time limit stops a loop), when it does. */
    readonly unmetered?: string,
  ) {}

  /**
   * Checks everything that can be checked before running: hash, wasm validity, imports (no
   * capability the manifest does not request), exports; then starts the plugin.
   */
  static async create(manifest: PluginManifest, options: SandboxOptions = {}): Promise<Sandbox> {
    const bytes = options.wasm ?? await readPluginWasm(manifest);
    const shape = await inspectWasm(bytes, manifest.name);
    const hostFunctions = checkImports(shape, manifest.hostFunctions, manifest.name);
    checkExports(shape, manifest.exports, manifest.name);
    const capped = capMemory(bytes, manifest.limits.memoryPages, manifest.name);
    // Metered where it can be: a loop then stops itself; the process kill stays the backstop.
    let metered: Uint8Array | undefined;
    let unmetered: string | undefined;
    try {
      metered = meterFuel(capped);
      if (!WebAssembly.validate(metered as Uint8Array<ArrayBuffer>)) {
        [metered, unmetered] = [undefined, "the metered module did not validate"];
      }
    } catch (err) {
      unmetered = (err as Error).message;
    }
    const sandbox = new Sandbox(
      manifest,
      hostFunctions,
      shape.exports.filter((e) => e.kind === "function").map((e) => e.name),
      shape.imports.map((i) => `${i.module}::${i.name}`),
      metered ?? capped,
      options,
      unmetered,
    );
    await sandbox.#start();
    return sandbox;
  }

  /** Calls an exported function with bytes, text or (anything else) JSON. */
  call(fn: string, input: Uint8Array | string | unknown = ""): Promise<PluginResult> {
    const bytes = input instanceof Uint8Array
      ? input
      : new TextEncoder().encode(typeof input === "string" ? input : JSON.stringify(input));
    const direct = () => {
      const run = this.#queue.then(() => this.#call(fn, bytes));
      this.#queue = run.catch(() => {});
      return run;
    };
    // Inside an agent's task, through its effect log: a replay answers from the record.
    const log = currentEffects();
    if (!log) return direct();
    return log.fed("plugin", `${this.manifest.name}/${fn}`, async () => {
      const out = (await direct()).bytes;
      return out ? Buffer.from(out).toString("base64") : null;
    }).then((b64) =>
      new PluginResult(b64 === null ? null : new Uint8Array(Buffer.from(b64, "base64")))
    );
  }

  /** Terminates the plugin's worker; calls after it fail with `closed`. */
  close(): void {
    this.#closed = true;
    this.#stop(new SandboxError("closed", "the sandbox was closed", this.manifest.name));
  }

  async #call(fn: string, input: Uint8Array): Promise<PluginResult> {
    if (this.#closed) {
      throw new SandboxError("closed", "the sandbox was closed", this.manifest.name);
    }
    if (!this.#worker) await this.#start();
    else await this.#ready;
    const { timeoutMs } = this.manifest.limits;
    const n = ++this.#n;
    const result = Promise.withResolvers<PluginResult>();
    this.#pending = { n, resolve: result.resolve, reject: result.reject };
    const channel = this.#channel;
    if (channel?.request(n, fn, input)) {
      // The wait for the answer is the time limit too: no timer per call.
      const answer = await channel.answer(n, timeoutMs);
      if (answer === undefined) {
        if (channel === this.#channel) this.#stop(this.#overran(fn, timeoutMs));
      } else if (answer.t !== "posted" && this.#pending?.n === n) {
        this.#pending = undefined;
        if (answer.t === "done") return new PluginResult(answer.output);
        throw new SandboxError(answer.kind as SandboxErrorKind, answer.message, this.manifest.name);
      }
      return await result.promise; // stopped, or an output too large for the channel
    }
    const timer = setTimeout(() => this.#stop(this.#overran(fn, timeoutMs)), timeoutMs);
    this.#post({ t: "call", n, fn, input });
    channel?.announce(n);
    try {
      return await result.promise;
    } finally {
      clearTimeout(timer);
    }
  }

  #overran(fn: string, timeoutMs: number): SandboxError {
    return new SandboxError(
      "timeout",
      `${fn} did not finish within its ${timeoutMs} ms time limit (limits.timeoutMs); ` +
        "the plugin was stopped",
      this.manifest.name,
    );
  }

  #start(): Promise<void> {
    this.starts++;
    // The SDK reads these two variables when it loads; nothing else is granted.
    const permissions = noPermissions([
      "EXTISM_ENABLE_WASI_OUTPUT",
      "__MINIMATCH_TESTING_PLATFORM__",
    ]);
    const inThread = this.options.isolation === "thread";
    const worker: WorkerLike = inThread
      ? new Worker(WORKER_MAIN, {
        type: "module",
        name: `plugin:${this.manifest.name}`,
        deno: { permissions },
      })
      : new ProcessWorker(WORKER.href, {
        name: `plugin "${this.manifest.name}"`,
        permissions,
        bubblewrap: true,
      });
    this.#worker = worker;
    const loaded = Promise.withResolvers<void>();
    worker.onmessage = (e) => this.#receive(e.data, loaded);
    worker.onerror = (e) => {
      e.preventDefault(); // a broken plugin must not take the runtime down
      const err = new SandboxError("trap", `its worker failed: ${e.message}`, this.manifest.name);
      loaded.reject(err);
      this.#stop(err);
    };
    const { limits, config, name } = this.manifest;
    // Shared memory cannot cross to a process: its calls go by message.
    this.#channel = inThread ? new CallChannel() : undefined;
    const load: LoadRequest = {
      t: "load",
      name,
      wasm: this.wasm,
      hostFunctions: this.hostFunctions,
      config,
      maxPages: limits.memoryPages,
      maxVarBytes: limits.maxVarBytes,
      maxOutputBytes: limits.maxOutputBytes,
      ...(this.unmetered ? {} : { fuel: limits.fuel ?? limits.timeoutMs * FUEL_PER_MS }),
      channel: this.#channel?.buffer,
    };
    worker.postMessage(load);
    this.#ready = loaded.promise;
    return this.#ready;
  }

  /** Terminates the worker (stopping even an endless loop) and fails the call in flight. */
  #stop(reason: Error): void {
    this.#worker?.terminate();
    this.#worker = undefined;
    this.#channel?.giveUp();
    this.#channel = undefined;
    this.#ready = undefined;
    this.#pending?.reject(reason);
    this.#pending = undefined;
  }

  #post(m: ToSandbox): void {
    this.#worker?.postMessage(m);
  }

  #receive(data: unknown, loaded: PromiseWithResolvers<void>): void {
    const parsed = FromSandbox.safeParse(data);
    if (!parsed.success) return;
    const m = parsed.data;
    switch (m.t) {
      case "loaded":
        return loaded.resolve();
      case "load_failed":
        loaded.reject(new SandboxError(m.kind, m.message, this.manifest.name));
        return this.#stop(new SandboxError(m.kind, m.message, this.manifest.name));
      case "done":
      case "failed": {
        if (this.#pending?.n !== m.n) return;
        const p = this.#pending;
        this.#pending = undefined;
        if (m.t === "done") p.resolve(new PluginResult(m.output));
        else p.reject(new SandboxError(m.kind, m.message, this.manifest.name));
        return;
      }
      case "host":
        void this.#host(m.id, m.fn, m.input);
        return;
      case "log":
        this.options.onLog?.(m.level, m.text);
        return;
    }
  }

  async #host(id: number, fn: string, input: string): Promise<void> {
    const worker = this.#worker;
    let result: string;
    try {
      if (!this.options.host) throw new Error("this sandbox offers no host functions");
      let request: unknown;
      try {
        request = JSON.parse(input);
      } catch {
        throw new Error(`${fn}: the request is not valid JSON`);
      }
      result = JSON.stringify({
        ok: (await this.options.host(fn as HostFunctionName, request)) ?? null,
      });
    } catch (err) {
      result = JSON.stringify({ error: (err as Error).message });
    }
    // A worker stopped meanwhile (timeout) no longer waits for this answer.
    if (worker === this.#worker) this.#post({ t: "host_result", id, result });
  }
}
