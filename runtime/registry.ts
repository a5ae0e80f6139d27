import type { ActorCell, ActorLoad, CellStatus } from "./actor_cell.ts";
import type { EventStream } from "./event_stream.ts";

/** An actor as discovery sees it: id, capabilities, status and load. */
export interface RegistryEntry {
  id: string;
  capabilities: readonly string[];
  status: CellStatus;
  load: ActorLoad;
}

/**
 * Discovery: which actors exist, what they can do and how loaded they are. Load comes from
 * each actor's heartbeats (worker) or its own counters (inline); disposed actors leave.
 */
export class Registry {
  readonly #cells = new Map<string, ActorCell>();

  constructor(readonly events: EventStream) {}

  /** Registers an actor cell; its id must be new. */
  add(cell: ActorCell): void {
    if (this.#cells.has(cell.id)) throw new Error(`an actor with id "${cell.id}" already exists`);
    this.#cells.set(cell.id, cell);
    this.events.emit({ type: "registered", actor: cell.id, capabilities: cell.spec.capabilities });
  }

  /** Unregisters an actor. */
  remove(id: string): void {
    if (this.#cells.delete(id)) this.events.emit({ type: "unregistered", actor: id });
  }

  /** The cell of actor `id`: its mailbox, spec, status and load. */
  cell(id: string): ActorCell | undefined {
    return this.#cells.get(id);
  }

  /** True when an actor `id` is registered. */
  has(id: string): boolean {
    return this.#cells.has(id);
  }

  /** Every registered actor cell. */
  cells(): IterableIterator<ActorCell> {
    return this.#cells.values();
  }

  /** Running actors offering `capability`, least loaded first (queued messages, then busy time). */
  find(capability: string): RegistryEntry[] {
    return this.list()
      .filter((e) => e.status === "running" && e.capabilities.includes(capability))
      .sort((a, b) => a.load.mailbox - b.load.mailbox || a.load.busyMs - b.load.busyMs);
  }

  /** Every registered actor with its status and load. */
  list(): RegistryEntry[] {
    return [...this.#cells.values()].map((cell) => ({
      id: cell.id,
      capabilities: cell.spec.capabilities,
      status: cell.status,
      load: cell.load(),
    }));
  }
}
