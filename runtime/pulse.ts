/**
 * A worker's pulse in shared memory. The worker bumps a counter from its own timer and writes
 * its load there; the host reads both without a message. A host whose thread was busy for a
 * while then finds the beats the worker made meanwhile, instead of mistaking its own delay for
 * a dead worker, and idle workers cost no messages at all.
 */
export class Pulse {
  static readonly BYTES = 24;
  readonly #beats: Int32Array;
  readonly #load: Float64Array;

  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(Pulse.BYTES)) {
    this.#beats = new Int32Array(buffer, 0, 1);
    this.#load = new Float64Array(buffer, 8, 2);
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

  get beats(): number {
    return Atomics.load(this.#beats, 0);
  }
  get busyMs(): number {
    return this.#load[0];
  }
  get processed(): number {
    return this.#load[1];
  }
}
