/** Pub/sub: topic name to subscribed actor ids and in-process listeners. */
export class Topics {
  readonly #actors = new Map<string, Set<string>>();
  readonly #listeners = new Map<string, Set<(message: unknown, from?: string) => void>>();

  subscribeActor(topic: string, actor: string): void {
    let set = this.#actors.get(topic);
    if (!set) this.#actors.set(topic, set = new Set());
    set.add(actor);
  }

  unsubscribeActor(actor: string): void {
    for (const set of this.#actors.values()) set.delete(actor);
  }

  listen(topic: string, listener: (message: unknown, from?: string) => void): () => void {
    let set = this.#listeners.get(topic);
    if (!set) this.#listeners.set(topic, set = new Set());
    set.add(listener);
    return () => set.delete(listener);
  }

  actors(topic: string): readonly string[] {
    return [...this.#actors.get(topic) ?? []];
  }

  listeners(topic: string): readonly ((message: unknown, from?: string) => void)[] {
    return [...this.#listeners.get(topic) ?? []];
  }
}
