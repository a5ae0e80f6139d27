import assert from "node:assert/strict";
import { encodeFrame, FrameKind, FrameReader } from "../../runtime/process_frames.ts";

Deno.test("frames to and from a process carry what postMessage would: plain JSON fast, the rest exactly", () => {
  const values: unknown[] = [
    { t: "batch", n: 1, messages: [{ type: "add", n: 1 }], asks: [0] },
    { t: "ask_result", corr: 3, ok: true, value: undefined },
    [1, undefined, 3],
    { bytes: new Uint8Array([1, 2, 3]), when: new Date(0), big: 2n ** 70n, nan: NaN },
    new Map([["a", 1]]),
    "text",
    null,
  ];
  const reader = new FrameReader();
  const bytes = values.map((v) => encodeFrame(FrameKind.message, v));
  // Split at every byte boundary a pipe might: frames come out whole and in order.
  const all = new Uint8Array(bytes.reduce((n, b) => n + b.length, 0));
  let at = 0;
  for (const b of bytes) all.set(b, (at += b.length) - b.length);
  const out = [];
  for (let i = 0; i < all.length; i += 7) out.push(...reader.push(all.subarray(i, i + 7)));
  assert.deepEqual(out.map((f) => f.kind), values.map(() => FrameKind.message));
  assert.deepEqual(out.map((f) => f.value), values);
  assert.throws(() => encodeFrame(FrameKind.message, { f: () => 1 }), /could not be cloned/);
});
