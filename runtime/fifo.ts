/** FIFO with O(1) shift; arrays' shift() is O(n) once they grow. */
export class Fifo<T> {
  #items: (T | undefined)[] = [];
  #head = 0;
  /** How many items are queued. */
  get length(): number {
    return this.#items.length - this.#head;
  }
  /** Adds an item at the end. */
  push(item: T): void {
    this.#items.push(item);
  }
  /** Puts an item back in front of the others. */
  unshift(item: T): void {
    if (this.#head > 0) this.#items[--this.#head] = item;
    else this.#items.unshift(item);
  }
  /** Takes the oldest item. */
  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }
  /** The oldest item, left in place. */
  peek(): T | undefined {
    return this.#items[this.#head];
  }
  /** Takes every item, oldest first. */
  drain(): T[] {
    const rest = this.#items.slice(this.#head) as T[];
    this.#items = [];
    this.#head = 0;
    return rest;
  }
}
