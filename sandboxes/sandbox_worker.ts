/// <reference lib="deno.worker" />
/**
 * Runs one Extism plugin on this worker's own thread (a worker thread, or a process's only one),
 * where calls cost microseconds. It has no Deno permissions; a call that runs too long is ended
 * by the Sandbox killing its process (or terminating the worker).
 * Calls come through a shared-memory channel (or, when too large, a message). Host functions are
 * async (JSPI): the plugin is suspended while the main thread answers.
 */
import { RETURN_CODE_PROBE, takeReturnCode } from "./return_code.ts"; // before the SDK loads
import createPlugin, { type CallContext, type Plugin } from "@extism/extism";
import type { FromSandbox, LoadRequest, ToSandbox } from "./sandbox_protocol.ts";
import { CallChannel } from "./call_channel.ts";
import { FUEL_EXPORT } from "./fuel.ts";

/** What a call came to. */
type Outcome =
  | { t: "done"; output: Uint8Array<ArrayBuffer> | null }
  | { t: "failed"; kind: Extract<FromSandbox, { t: "failed" }>["kind"]; message: string };

const post = (m: FromSandbox, transfer: Transferable[] = []) => self.postMessage(m, transfer);
const hostReplies = new Map<number, (result: string) => void>();
let nextHost = 0;
let plugin: Plugin | undefined;
let limits: LoadRequest | undefined;
/** The last "abort: …" line the plugin logged in this call (troupe's kit logs one before it traps). */
let lastAbort = "";

function hostFunction(fn: string) {
  return async (ctx: CallContext, offset: bigint): Promise<bigint> => {
    const input = ctx.read(offset)?.text() ?? "null";
    const id = ++nextHost;
    const reply = Promise.withResolvers<string>();
    hostReplies.set(id, reply.resolve);
    post({ t: "host", id, fn, input });
    return ctx.store(await reply.promise);
  };
}

const logger = Object.fromEntries(
  (["trace", "debug", "info", "warn", "error", "log"] as const).map((level) => [
    level,
    (...parts: unknown[]) => {
      const text = parts.map(String).join(" ");
      if (text.startsWith("abort: ")) lastAbort = text;
      post({ t: "log", level, text });
    },
  ]),
) as unknown as NonNullable<Parameters<typeof createPlugin>[1]>["logger"];

async function load(m: LoadRequest): Promise<void> {
  limits = m;
  try {
    plugin = await createPlugin({ wasm: [{ data: m.wasm }] }, {
      useWasi: false,
      runInWorker: false,
      config: m.config,
      memory: { maxPages: m.maxPages, maxVarBytes: m.maxVarBytes },
      functions: {
        troupe: Object.fromEntries(m.hostFunctions.map((f) => [f, hostFunction(f)])),
        ...RETURN_CODE_PROBE,
      },
      logger,
      logLevel: "debug",
    });
    post({ t: "loaded" });
    if (m.channel) void serveChannel(new CallChannel(m.channel));
  } catch (err) {
    const e = err as Error;
    const kind = e instanceof WebAssembly.LinkError ? "missing_import" : "invalid_wasm";
    post({ t: "load_failed", kind, message: e.message });
  }
}

async function memoryPages(): Promise<number> {
  try {
    const memory = (await plugin!.getInstance()).exports.memory;
    return memory instanceof WebAssembly.Memory ? memory.buffer.byteLength / 65536 : 0;
  } catch {
    return 0;
  }
}

/** The metered module's fuel counter, looked up once per instance. */
async function fuelCounter(): Promise<WebAssembly.Global | undefined> {
  const counter = (await plugin!.getInstance()).exports[FUEL_EXPORT];
  return counter instanceof WebAssembly.Global ? counter : undefined;
}

/** Calls `fn`; what it came to, for the channel or a message to carry. */
async function call(fn: string, input: Uint8Array): Promise<Outcome> {
  lastAbort = "";
  takeReturnCode();
  const fuel = limits!.fuel ? await fuelCounter() : undefined;
  if (fuel) fuel.value = BigInt(limits!.fuel!);
  try {
    const out = await plugin!.call(fn, input);
    const code = takeReturnCode();
    if (code !== 0) {
      const said = out?.text().slice(0, 500);
      return {
        t: "failed",
        kind: "plugin_error",
        message: `${fn} returned ${code}` + (said ? `; its output: ${said}` : ""),
      };
    }
    const bytes = out ? out.bytes().slice() : null;
    if (bytes && bytes.length > limits!.maxOutputBytes) {
      return {
        t: "failed",
        kind: "output_limit",
        message: `${fn} returned ${bytes.length} bytes, more than its limit of ` +
          `${limits!.maxOutputBytes} (limits.maxOutputBytes)`,
      };
    }
    return { t: "done", output: bytes };
  } catch (err) {
    const e = err as Error;
    const originated = e.message.match(/^Plugin-originated error: ([\s\S]*)$/);
    if (originated) return { t: "failed", kind: "plugin_error", message: originated[1] };
    if (/function "[^"]*" does not exist|is not a function/.test(e.message)) {
      return { t: "failed", kind: "missing_export", message: e.message };
    }
    if (fuel && (fuel.value as bigint) < 0n) {
      return {
        t: "failed",
        kind: "out_of_fuel",
        message: `${fn} used all of its ${limits!.fuel} units of fuel (limits.fuel; a unit is ` +
          "a function call or a loop iteration) and was stopped; the plugin stays loaded",
      };
    }
    // The guest's failed memory.grow is invisible from here; a trap with more than half the
    // cap in use is almost always one (the allocation that failed did not fit the rest).
    const pages = await memoryPages();
    if (/memory|unreachable/i.test(e.message) && pages * 2 > limits!.maxPages) {
      return {
        t: "failed",
        kind: "memory_limit",
        message: `${fn} most likely ran out of memory: it trapped (${e.message}) with ${pages} ` +
          `of its ${limits!.maxPages} pages (64 KiB each, limits.memoryPages) in use`,
      };
    }
    const why = lastAbort ? ` (${lastAbort})` : "";
    return { t: "failed", kind: "trap", message: `${fn} trapped: ${e.name}: ${e.message}${why}` };
  }
}

/** Posts an outcome: the answer to a posted call, or one too large for the channel. */
function postOutcome(n: number, o: Outcome): void {
  if (o.t === "failed") post({ t: "failed", n, kind: o.kind, message: o.message });
  else post({ t: "done", n, output: o.output }, o.output ? [o.output.buffer] : []);
}

/** Calls that came by message (too large for the channel), by number: settled once answered. */
const postedCalls = new Map<number, PromiseWithResolvers<void>>();
const postedCall = (n: number) => {
  if (!postedCalls.has(n)) postedCalls.set(n, Promise.withResolvers<void>());
  return postedCalls.get(n)!;
};

/**
 * Serves calls from the shared channel, one after another, for as long as the worker lives.
 * Between calls the thread blocks in `Atomics.wait` (a few µs to wake), looking at its event
 * loop once a second and whenever a call comes by message; during a call the loop runs freely,
 * for host functions' answers.
 */
async function serveChannel(channel: CallChannel): Promise<void> {
  for (let last = 0;;) {
    const next = channel.take(last, 1_000);
    if (!next) {
      await new Promise((r) => setTimeout(r, 0));
      continue;
    }
    last = next.n;
    if (next.posted) {
      await postedCall(next.n).promise;
      postedCalls.delete(next.n);
      continue;
    }
    const outcome = await call(next.fn, next.input);
    if (channel.reply(next.n, outcome) === "posted") postOutcome(next.n, outcome);
  }
}

self.onmessage = (e: MessageEvent<ToSandbox>) => {
  const m = e.data;
  if (m.t === "load") void load(m);
  else if (m.t === "call") {
    void call(m.fn, m.input).then((o) => {
      postOutcome(m.n, o);
      postedCall(m.n).resolve();
    });
  } else if (m.t === "host_result") {
    hostReplies.get(m.id)?.(m.result);
    hostReplies.delete(m.id);
  }
};
