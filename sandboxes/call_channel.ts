/**
 * Plugin calls between a Sandbox and its worker through shared memory, signalled with Atomics:
 * a round trip costs ~10 µs where a `postMessage` round trip costs ~50-100 µs. One call at a time
 * (the Sandbox queues them). A call or answer too large for the buffer goes by `postMessage`,
 * announced here, since an idle worker waits here, not in its event loop.
 *
 * Layout: five Int32 slots (the request's number, the answered number, the answer's kind, the
 * payload's length, the function name's length), then the payload: the function's name and its
 * input in a request; the output, or a failure as JSON, in an answer.
 */
const REQUEST = 0;
const ANSWERED = 1;
const KIND = 2;
const LENGTH = 3;
const FN_LENGTH = 4;
const HEADER = 5 * 4;

/** How an answer came: its output here, a failure here, or by `postMessage` (too large). */
export type ChannelAnswer =
  | { t: "done"; output: Uint8Array | null }
  | { t: "failed"; kind: string; message: string }
  | { t: "posted" };

const KINDS = ["done", "done_null", "failed", "posted"] as const;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class CallChannel {
  static readonly CAPACITY = 64 * 1024;
  readonly #ctrl: Int32Array;
  readonly #data: Uint8Array;

  constructor(
    readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(HEADER + CallChannel.CAPACITY),
  ) {
    this.#ctrl = new Int32Array(buffer, 0, 5);
    this.#data = new Uint8Array(buffer, HEADER);
  }

  /** Host side: sends call `n` if the name and input fit; false if they must be posted. */
  request(n: number, fn: string, input: Uint8Array): boolean {
    const name = encoder.encode(fn);
    if (name.length + input.length > this.#data.length) return false;
    this.#data.set(name, 0);
    this.#data.set(input, name.length);
    this.#ctrl[FN_LENGTH] = name.length;
    this.#ctrl[LENGTH] = name.length + input.length;
    Atomics.store(this.#ctrl, REQUEST, n);
    Atomics.notify(this.#ctrl, REQUEST);
    return true;
  }

  /**
   * Host side: waits (without blocking this thread) for call `n`'s answer; undefined when it
   * ran past `timeoutMs` or the wait was given up (`giveUp`).
   */
  async answer(n: number, timeoutMs: number): Promise<ChannelAnswer | undefined> {
    const until = performance.now() + timeoutMs;
    for (;;) {
      const seen = Atomics.load(this.#ctrl, ANSWERED);
      if (seen === n) break;
      if (seen === -1) return undefined;
      const left = until - performance.now();
      if (left <= 0) return undefined;
      const wait = Atomics.waitAsync(this.#ctrl, ANSWERED, seen, left);
      if (wait.async) await wait.value;
    }
    const kind = KINDS[this.#ctrl[KIND]];
    const bytes = this.#data.slice(0, this.#ctrl[LENGTH]);
    if (kind === "done") return { t: "done", output: bytes };
    if (kind === "done_null") return { t: "done", output: null };
    if (kind === "posted") return { t: "posted" };
    const { kind: failure, message } = JSON.parse(decoder.decode(bytes));
    return { t: "failed", kind: failure, message };
  }

  /** Host side: wakes a waiting `answer` for good (the worker was stopped). */
  giveUp(): void {
    Atomics.store(this.#ctrl, ANSWERED, -1);
    Atomics.notify(this.#ctrl, ANSWERED);
  }

  /** Host side: tells a waiting worker that call `n` comes by message (it did not fit). */
  announce(n: number): void {
    this.#ctrl[FN_LENGTH] = -1;
    Atomics.store(this.#ctrl, REQUEST, n);
    Atomics.notify(this.#ctrl, REQUEST);
  }

  /**
   * Worker side: blocks this thread up to `timeoutMs` for the call after `last` (a blocked thread
   * wakes in a few µs; one awaiting `Atomics.waitAsync` takes ~15 µs more). Returns its number,
   * function and input (`posted`: it comes by message), or undefined if none came.
   */
  take(
    last: number,
    timeoutMs: number,
  ): { n: number; posted: boolean; fn: string; input: Uint8Array } | undefined {
    Atomics.wait(this.#ctrl, REQUEST, last, timeoutMs);
    const n = Atomics.load(this.#ctrl, REQUEST);
    if (n === last) return undefined;
    const split = this.#ctrl[FN_LENGTH];
    if (split < 0) return { n, posted: true, fn: "", input: new Uint8Array() };
    return {
      n,
      posted: false,
      fn: decoder.decode(this.#data.subarray(0, split)),
      input: this.#data.slice(split, this.#ctrl[LENGTH]),
    };
  }

  /** Worker side: answers call `n`; an output too large to fit is answered "posted". */
  reply(n: number, answer: ChannelAnswer): ChannelAnswer["t"] {
    let kind: typeof KINDS[number] = "posted";
    let payload: Uint8Array = new Uint8Array();
    if (answer.t === "done" && answer.output === null) kind = "done_null";
    else if (answer.t === "done" && answer.output!.length <= this.#data.length) {
      [kind, payload] = ["done", answer.output!];
    } else if (answer.t === "failed") {
      const json = encoder.encode(
        JSON.stringify({ kind: answer.kind, message: answer.message.slice(0, 8_000) }),
      );
      [kind, payload] = ["failed", json];
    }
    this.#data.set(payload, 0);
    this.#ctrl[LENGTH] = payload.length;
    this.#ctrl[KIND] = KINDS.indexOf(kind);
    Atomics.store(this.#ctrl, ANSWERED, n);
    Atomics.notify(this.#ctrl, ANSWERED);
    return kind === "done_null" ? "done" : kind;
  }
}
