import assert from "node:assert/strict";
import { Fifo } from "../../runtime/fifo.ts";

Deno.test("a Fifo keeps order through pushes, shifts and unshifts, as it grows and empties", () => {
  // A fixed pseudo-random walk, checked step by step against an array doing the same.
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  for (let round = 0; round < 50; round++) {
    const fifo = new Fifo<number>();
    const model: number[] = [];
    let next = 0;
    for (let i = 0; i < 5000; i++) {
      const r = random();
      // Bursts longer than a block, then drained to empty: every path of the chain of blocks.
      if (r < (i % 2000 < 1000 ? 0.7 : 0.3)) {
        fifo.push(next);
        model.push(next++);
      } else if (r < 0.75) {
        fifo.unshift(next);
        model.unshift(next++);
      } else assert.equal(fifo.shift(), model.shift());
      assert.equal(fifo.length, model.length);
      assert.equal(fifo.peek(), model[0]);
    }
    assert.deepEqual(fifo.drain(), model);
    assert.equal(fifo.length, 0);
    assert.equal(fifo.shift(), undefined);
  }
});
