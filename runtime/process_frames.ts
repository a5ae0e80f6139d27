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

/** Encodes one frame; throws (as `postMessage` does) when the value cannot be cloned. */
export function encodeFrame(kind: FrameKind, value: unknown): Uint8Array {
  const body = serialize(value);
  const frame = new Uint8Array(5 + body.length);
  new DataView(frame.buffer).setUint32(0, body.length + 1, true);
  frame[4] = kind;
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
      // A copy: the deserializer reads typed arrays from the start of the buffer it is given.
      frames.push({ kind, value: deserialize(joined.slice(at + 5, at + 4 + length)) });
      at += 4 + length;
    }
    this.#buffer = joined.slice(at);
    return frames;
  }
}
