import { readLeb, writeLeb, writeSleb } from "./leb128.ts";

/**
 * Fuel for WebAssembly, as wasmtime's fuel does it: a module is rewritten when it is loaded so
 * that every function entry and every loop head takes one unit from a counter of its own (an
 * exported mutable i64 global, `troupe_fuel`) and traps with `unreachable` once it is spent. A
 * plugin that loops forever then stops itself, deterministically, on whatever thread runs it,
 * and that thread is free again. The host sets the counter before each call.
 *
 * Hand-written: no npm library rewrites function bodies while keeping every instruction of
 * today's modules (binaryen would re-optimise them; wasm-metering reads only the MVP and calls
 * an import per block). It decodes each instruction's immediates, so that a byte 0x03 inside an
 * immediate is never taken for a `loop`; an instruction it does not know leaves the module
 * unmetered, and the sandbox's process kill stays the backstop.
 */

/** The export the counter is reached by. */
export const FUEL_EXPORT = "troupe_fuel";

/** Units per millisecond of a call's time limit when the manifest gives no `fuel`. */
export const FUEL_PER_MS = 100_000;

/** Why a module could not be metered. */
export class UnmeterableWasm extends Error {}

class Reader {
  constructor(readonly bytes: Uint8Array, public at = 0) {}
  byte(): number {
    if (this.at >= this.bytes.length) throw new UnmeterableWasm("truncated module");
    return this.bytes[this.at++];
  }
  /** An unsigned or signed LEB128 number, skipped (its value is not needed beyond 2^53). */
  leb(): number {
    try {
      const [value, length] = readLeb(this.bytes, this.at);
      this.at += length;
      return value;
    } catch (err) {
      throw new UnmeterableWasm((err as Error).message);
    }
  }
  skip(n: number): void {
    this.at += n;
    if (this.at > this.bytes.length) throw new UnmeterableWasm("truncated module");
  }
  name(): void {
    this.skip(this.leb());
  }
}

/** Bytes appended piece by piece (spreading a large array into `push` overflows the stack). */
class Builder {
  #buf = new Uint8Array(1024);
  length = 0;
  add(bytes: ArrayLike<number>): void {
    if (this.length + bytes.length > this.#buf.length) {
      const grown = new Uint8Array(Math.max(this.#buf.length * 2, this.length + bytes.length));
      grown.set(this.#buf.subarray(0, this.length));
      this.#buf = grown;
    }
    this.#buf.set(bytes, this.length);
    this.length += bytes.length;
  }
  bytes(): Uint8Array {
    return this.#buf.slice(0, this.length);
  }
}

/** A heap type or value type that may be more than one byte (reference types of the GC proposal). */
function valtype(r: Reader): void {
  const b = r.byte();
  if (b === 0x63 || b === 0x64) heaptype(r);
}

function heaptype(r: Reader): void {
  const b = r.bytes[r.at];
  if (b >= 0x69 && b <= 0x74) r.at++; // abstract heap types: one byte
  else r.leb(); // a type index (s33)
}

function blocktype(r: Reader): void {
  const b = r.bytes[r.at];
  if (b === 0x40 || (b >= 0x6f && b <= 0x7f)) r.at++;
  else if (b === 0x63 || b === 0x64) valtype(r);
  else r.leb(); // a type index (s33)
}

function memarg(r: Reader): void {
  const align = r.leb();
  if (align & 0x40) r.leb(); // multi-memory: the memory index
  r.leb(); // offset
}

/**
 * Walks one function's instructions from `r.at` to `end`; returns the offsets just after each
 * `loop`'s block type, where a check goes.
 */
function loopHeads(r: Reader, end: number): number[] {
  const heads: number[] = [];
  while (r.at < end) {
    const op = r.byte();
    if (op === 0x03) {
      blocktype(r);
      heads.push(r.at);
    } else if (op === 0x02 || op === 0x04 || op === 0x06) blocktype(r);
    else if (op === 0x1f) { // try_table
      blocktype(r);
      for (let n = r.leb(); n > 0; n--) {
        const kind = r.byte();
        if (kind <= 0x01) r.leb(); // a tag
        r.leb(); // a label
      }
    } else if (
      op === 0x07 || op === 0x08 || op === 0x09 || op === 0x18 || op === 0x0c || op === 0x0d ||
      op === 0x10 || op === 0x12 || op === 0x14 || op === 0x15 || (op >= 0x20 && op <= 0x26) ||
      op === 0xd2 || op === 0xd5 || op === 0xd6 || op === 0x3f || op === 0x40 || op === 0x41 ||
      op === 0x42
    ) r.leb();
    else if (op === 0x0e) {
      for (let n = r.leb(); n >= 0; n--) r.leb(); // the labels, then the default
    } else if (op === 0x11 || op === 0x13) {
      r.leb();
      r.leb();
    } else if (op === 0x1c) {
      for (let n = r.leb(); n > 0; n--) valtype(r);
    } else if (op >= 0x28 && op <= 0x3e) memarg(r);
    else if (op === 0x43) r.skip(4);
    else if (op === 0x44) r.skip(8);
    else if (op === 0xd0) heaptype(r);
    else if (op === 0xfc) fcPrefixed(r);
    else if (op === 0xfd) simd(r);
    else if (op === 0xfe) atomic(r);
    else if (
      op === 0x00 || op === 0x01 || op === 0x05 || op === 0x0a || op === 0x0b || op === 0x0f ||
      op === 0x19 || op === 0x1a || op === 0x1b || (op >= 0x45 && op <= 0xc4) || op === 0xd1 ||
      op === 0xd3 || op === 0xd4
    ) { /* no immediates */ } else {
      throw new UnmeterableWasm(
        `opcode 0x${op.toString(16)} at byte ${r.at - 1} is not one troupe can meter`,
      );
    }
  }
  return heads;
}

function fcPrefixed(r: Reader): void {
  const sub = r.leb();
  if (sub <= 7) return; // saturating truncations
  if (sub === 8 || sub === 12 || sub === 10 || sub === 14) {
    r.leb();
    r.leb();
  } else if (sub === 9 || sub === 11 || sub === 13 || (sub >= 15 && sub <= 17)) r.leb();
  else throw new UnmeterableWasm(`instruction 0xfc ${sub} is not one troupe can meter`);
}

function simd(r: Reader): void {
  const sub = r.leb();
  if (sub <= 11 || sub === 92 || sub === 93) memarg(r);
  else if (sub === 12 || sub === 13) r.skip(16);
  else if (sub >= 21 && sub <= 34) r.skip(1);
  else if (sub >= 84 && sub <= 91) {
    memarg(r);
    r.skip(1);
  } else if (sub > 275) {
    throw new UnmeterableWasm(`instruction 0xfd ${sub} is not one troupe can meter`);
  }
}

function atomic(r: Reader): void {
  const sub = r.leb();
  if (sub === 0x03) r.skip(1); // atomic.fence
  else memarg(r);
}

/** The check at a function entry or loop head: take a unit, trap below zero. */
function check(global: number): number[] {
  const g = writeLeb(global);
  return [
    0x23,
    ...g,
    0x42,
    0x01,
    0x7d,
    0x24,
    ...g, // fuel -= 1
    0x23,
    ...g,
    0x42,
    0x00,
    0x53,
    0x04,
    0x40,
    0x00,
    0x0b, // if fuel < 0: unreachable
  ];
}

interface Section {
  id: number;
  body: Uint8Array;
}

function sections(bytes: Uint8Array): Section[] {
  const r = new Reader(bytes, 8);
  const out: Section[] = [];
  while (r.at < bytes.length) {
    const id = r.byte();
    const size = r.leb();
    out.push({ id, body: bytes.subarray(r.at, r.at + size) });
    r.skip(size);
  }
  return out;
}

function importedGlobals(body: Uint8Array): number {
  const r = new Reader(body);
  let globals = 0;
  for (let n = r.leb(); n > 0; n--) {
    r.name();
    r.name();
    const kind = r.byte();
    if (kind === 0x00) r.leb();
    else if (kind === 0x01) {
      valtype(r);
      limits(r);
    } else if (kind === 0x02) limits(r);
    else if (kind === 0x03) {
      valtype(r);
      r.byte();
      globals++;
    } else if (kind === 0x04) {
      r.byte();
      r.leb();
    } else throw new UnmeterableWasm(`an import of kind ${kind}`);
  }
  return globals;
}

function limits(r: Reader): void {
  const flags = r.byte();
  r.leb();
  if (flags & 1) r.leb();
}

const count = (body: Uint8Array) => new Reader(body).leb();

/** A vector section with `item` appended (its count raised by one). */
function appendItem(body: Uint8Array | undefined, item: number[]): Uint8Array {
  const out = new Builder();
  if (!body) {
    out.add(writeLeb(1));
  } else {
    const r = new Reader(body);
    out.add(writeLeb(r.leb() + 1));
    out.add(body.subarray(r.at));
  }
  out.add(item);
  return out.bytes();
}

function meterCode(body: Uint8Array, global: number): Uint8Array {
  const r = new Reader(body);
  const out = new Builder();
  const fns = r.leb();
  out.add(writeLeb(fns));
  const fuel = check(global);
  for (let f = 0; f < fns; f++) {
    const size = r.leb();
    const start = r.at;
    const end = start + size;
    for (let n = r.leb(); n > 0; n--) {
      r.leb();
      valtype(r);
    }
    const entry = r.at;
    const heads = loopHeads(r, end);
    if (r.at !== end) throw new UnmeterableWasm(`function ${f} does not end where its size says`);
    const fn = new Builder();
    fn.add(body.subarray(start, entry));
    fn.add(fuel);
    let from = entry;
    for (const at of heads) {
      fn.add(body.subarray(from, at));
      fn.add(fuel);
      from = at;
    }
    fn.add(body.subarray(from, end));
    out.add(writeLeb(fn.length));
    out.add(fn.bytes());
  }
  return out.bytes();
}

/** Where a section goes, for the two this may have to add (global, export). */
const ORDER = [1, 2, 3, 4, 5, 13, 6, 7, 8, 9, 12, 10, 11];

/**
 * A copy of the module with a fuel check at every function entry and loop head, and the counter
 * exported as `troupe_fuel` (the host sets it before each call). Throws
 * `UnmeterableWasm` (the caller then runs the module unmetered) for what it cannot decode.
 */
export function meterFuel(bytes: Uint8Array): Uint8Array {
  const all = sections(bytes);
  const find = (id: number) => all.find((s) => s.id === id);
  const globals = (find(2) ? importedGlobals(find(2)!.body) : 0) +
    (find(6) ? count(find(6)!.body) : 0);
  const name = new TextEncoder().encode(FUEL_EXPORT);
  const replaced = new Map<number, Uint8Array>([
    // (mut i64), plenty until the host sets it: a start function runs while the module loads.
    [6, appendItem(find(6)?.body, [0x7e, 0x01, 0x42, ...writeSleb(2 ** 52), 0x0b])],
    [7, appendItem(find(7)?.body, [...writeLeb(name.length), ...name, 0x03, ...writeLeb(globals)])],
  ]);
  if (find(10)) replaced.set(10, meterCode(find(10)!.body, globals));
  const out = new Builder();
  out.add(bytes.subarray(0, 8));
  const emit = (id: number, body: Uint8Array) => {
    out.add([id, ...writeLeb(body.length)]);
    out.add(body);
  };
  const rank = (id: number) => ORDER.indexOf(id);
  for (const s of all) {
    // The new sections go before the first section that must follow them.
    for (const [id, body] of replaced) {
      if (!find(id) && s.id !== 0 && rank(s.id) > rank(id)) {
        emit(id, body);
        replaced.delete(id);
      }
    }
    emit(s.id, replaced.get(s.id) ?? s.body);
    replaced.delete(s.id);
  }
  for (const [id, body] of replaced) emit(id, body); // nothing came after them
  return out.bytes();
}
