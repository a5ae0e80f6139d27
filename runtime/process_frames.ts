import { deserialize, serialize } from "node:v8";

/**
 * Frames between a host and a process it runs code in, one concept on both sides of the pipe:
 * a 4-byte little-endian length, a kind byte, then the payload (structured-clone bytes, as a
 * worker's `postMessage` would copy them, written by V8's own serializer).
 */
export const FrameKind = {
  /** A message, as `postMessage` sends it. */
  message: 0,
  /** Child to host: the current bytes of a mirrored shared buffer (`{ i, bytes }`). */
  mirror: 1,
  /** Child to host: an uncaught error, as a worker's `onerror` reports it (`{ message }`). */
  error: 2,
} as const;
export type FrameKind = typeof FrameKind[keyof typeof FrameKind];

/** Frames larger than this are refused as corrupt (a worker message is rarely a tenth of it). */
export const MAX_FRAME_BYTES = 256 * 2 ** 20;

/**
 * Shared buffers cannot cross a process boundary: a top-level field holding one is sent as this
 * marker, and the child mirrors its own copy back (child to host only, which is all a pulse needs).
 */
export const SHARED_MARK = "__troupe_shared_buffer__";

/** Set on a frame's kind byte when its payload is JSON (the value survived JSON exactly). */
const JSON_BIT = 0x80;
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const NOT_PLAIN = Symbol("not plain");

/**
 * JSON when it carries the value exactly (a few µs), else V8's serializer (~15 µs each way in
 * Deno): anything JSON would change (undefined, NaN, bytes, Maps, Dates, BigInts, …) goes the
 * slow, faithful way.
 */
function plainJson(value: unknown): string | undefined {
  try {
    return JSON.stringify(value, function (key, v) {
      if (
        v === undefined || typeof v === "bigint" || typeof v === "function" ||
        (typeof v === "number" && !Number.isFinite(v)) ||
        (typeof v === "object" && v !== null && !Array.isArray(v) &&
          Object.getPrototypeOf(v) !== Object.prototype && Object.getPrototypeOf(v) !== null) ||
        (typeof (this as Record<string, unknown>)[key] === "object" &&
          (this as Record<string, unknown>)[key] instanceof Date)
      ) throw NOT_PLAIN;
      return v;
    });
  } catch (err) {
    if (err === NOT_PLAIN) return undefined;
    throw err;
  }
}

/** Encodes one frame; throws (as `postMessage` does) when the value cannot be cloned. */
export function encodeFrame(kind: FrameKind, value: unknown): Uint8Array {
  const json = plainJson(value);
  const body = json === undefined ? serialize(value) : encoder.encode(json);
  const frame = new Uint8Array(5 + body.length);
  new DataView(frame.buffer).setUint32(0, body.length + 1, true);
  frame[4] = json === undefined ? kind : kind | JSON_BIT;
  frame.set(body, 5);
  return frame;
}

/** Splits a byte stream into frames; throws on a length that cannot be right. */
export class FrameReader {
  #buffer = new Uint8Array(0);

  /** Adds bytes read; returns the whole frames they complete. */
  push(chunk: Uint8Array): { kind: number; value: unknown }[] {
    const joined = new Uint8Array(this.#buffer.length + chunk.length);
    joined.set(this.#buffer);
    joined.set(chunk, this.#buffer.length);
    const frames: { kind: number; value: unknown }[] = [];
    let at = 0;
    while (joined.length - at >= 4) {
      const length = new DataView(joined.buffer, at).getUint32(0, true);
      if (length < 1 || length > MAX_FRAME_BYTES) {
        throw new Error(`a frame of ${length} bytes: the stream is corrupt`);
      }
      if (joined.length - at - 4 < length) break;
      const kind = joined[at + 4];
      const body = joined.subarray(at + 5, at + 4 + length);
      frames.push(
        kind & JSON_BIT
          ? { kind: kind & ~JSON_BIT, value: JSON.parse(decoder.decode(body)) }
          // A copy: the deserializer reads typed arrays from the start of the buffer it is given.
          : { kind, value: deserialize(body.slice()) },
      );
      at += 4 + length;
    }
    this.#buffer = joined.slice(at);
    return frames;
  }
}
