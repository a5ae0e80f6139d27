/** One block of a Fifo: slots taken from `head`, filled at `tail`. */
class Block<T> {
  readonly slots: (T | undefined)[];
  head = 0;
  tail = 0;
  next?: Block<T>;
  constructor(size: number) {
    this.slots = new Array<T | undefined>(size).fill(undefined);
  }
}

/** The largest block a Fifo adds: a burst adds blocks, never copies what it holds. */
const MAX_BLOCK = 4096;

/**
 * FIFO as a chain of blocks, as Node's own microtask queue is: O(1) push and shift, nothing
 * copied as it grows, and no garbage while it keeps emptying (an emptied block is reused from
 * its start). An array with a moving head grew by every message and was copied as it was
 * trimmed; arrays' own shift() is O(n); a ring doubled by copying cost a burst a fifth of its time.
 */
export class Fifo<T> {
  #first: Block<T>;
  #last: Block<T>;
  #size = 0;

  constructor(initial = 8) {
    this.#first = this.#last = new Block<T>(initial);
  }

  /** How many items are queued. */
  get length(): number {
    return this.#size;
  }

  /** Adds an item at the end. */
  push(item: T): void {
    let last = this.#last;
    if (last.tail === last.slots.length) {
      // Full: a bigger block after it (when the Fifo is empty, `last` was reset to its start).
      const block = new Block<T>(Math.min(last.slots.length * 2, MAX_BLOCK));
      last.next = block;
      this.#last = last = block;
    }
    last.slots[last.tail++] = item;
    this.#size++;
  }

  /** Puts an item back in front of the others. */
  unshift(item: T): void {
    if (this.#size === 0) return this.push(item);
    const first = this.#first;
    if (first.head > 0) {
      first.slots[--first.head] = item;
    } else {
      const block = new Block<T>(8);
      block.slots[0] = item;
      block.tail = 1;
      block.next = first;
      this.#first = block;
    }
    this.#size++;
  }

  /** Takes the oldest item. */
  shift(): T | undefined {
    if (this.#size === 0) return undefined;
    let first = this.#first;
    if (first.head === first.tail) this.#first = first = first.next!;
    const item = first.slots[first.head];
    first.slots[first.head++] = undefined; // let it be collected
    if (--this.#size === 0) first.head = first.tail = 0; // the only block left: reused
    return item;
  }

  /** The oldest item, left in place. */
  peek(): T | undefined {
    if (this.#size === 0) return undefined;
    const first = this.#first.head === this.#first.tail ? this.#first.next! : this.#first;
    return first.slots[first.head];
  }

  /** Takes every item, oldest first. */
  drain(): T[] {
    const all: T[] = [];
    while (this.#size > 0) all.push(this.shift() as T);
    return all;
  }
}
