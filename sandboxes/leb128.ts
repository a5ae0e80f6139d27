/**
 * LEB128, the variable-length numbers of the wasm binary format, for the module rewrites (memory
 * caps, fuel). Written here: a few lines, where the npm package is itself a wasm module to load.
 */

/** Reads a LEB128 number at `at` (signed ones as their raw bits); `[value, bytes read]`. */
export function readLeb(bytes: Uint8Array, at: number): [number, number] {
  let result = 0, shift = 0, i = at;
  for (;;) {
    const b = bytes[i++];
    if (b === undefined) throw new RangeError("truncated module");
    // Values past 2^53 are only skipped, never used.
    if (shift < 53) result += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if ((b & 0x80) === 0) return [result, i - at];
    if (shift > 70) throw new RangeError("a number longer than 10 bytes");
  }
}

/** Unsigned LEB128 of a non-negative number below 2^53. */
export function writeLeb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
}

/** Signed LEB128 of a non-negative number below 2^53 (for `i64.const`). */
export function writeSleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n % 128;
    n = Math.floor(n / 128);
    if (n === 0 && (b & 0x40) === 0) return [...out, b];
    out.push(b | 0x80);
  }
}
