/**
 * A worker's pulse in shared memory. The worker bumps a counter from its own timer and writes
 * its load and heap size there; the host reads them without a message. A host whose thread was
 * busy for a while then finds the beats the worker made meanwhile, instead of mistaking its own
 * delay for a dead worker, and idle workers cost no messages at all.
 */
export class Pulse {
  static readonly BYTES = 32;
  readonly #beats: Int32Array;
  readonly #load: Float64Array;

  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(Pulse.BYTES)) {
    this.#beats = new Int32Array(buffer, 0, 1);
    this.#load = new Float64Array(buffer, 8, 3);
  }

  /** Worker side: one beat from the worker's event loop. */
  beat(): void {
    Atomics.add(this.#beats, 0, 1);
  }

  /** Worker side: the load after each message. */
  record(busyMs: number, processed: number): void {
    this.#load[0] = busyMs;
    this.#load[1] = processed;
  }

  /** Worker side: the bytes its heap holds (read from the beat's timer: the read costs ~8 µs). */
  heap(bytes: number): void {
    this.#load[2] = bytes;
  }

  get beats(): number {
    return Atomics.load(this.#beats, 0);
  }
  get busyMs(): number {
    return this.#load[0];
  }
  get processed(): number {
    return this.#load[1];
  }
  get heapBytes(): number {
    return this.#load[2];
  }
}
