import { join } from "node:path";
import type { z } from "zod";
import type { EventType, Ledger } from "../ledger/mod.ts";
import {
  type ApprovalRequest,
  type ApprovalState,
  ApprovalTally,
  checkVote,
  type Vote,
} from "./approval.ts";
import { holdWaiting, readVote } from "./approval_inbox.ts";
import {
  APPROVAL_EVENTS,
  ApprovalDecided,
  ApprovalRequested,
  ApprovalVoteCounted,
  ApprovalVoteRefused,
} from "./approval_events.ts";
import { readTrustList } from "./keys.ts";
import type { Approval } from "./policy.ts";

/** The approvals inbox unless `--approvals` says otherwise. */
export const DEFAULT_APPROVALS_DIR = ".troupe/approvals";

export interface DeskOptions {
  ledger: Ledger;
  /** The inbox: `ID.request.json` for each pending request, votes in `ID/*.vote.json`. */
  dir: string;
  /** Where `trust.json` lives (the key folder). */
  keyDir: string;
  pollMs?: number;
  now?: () => number;
  /** Human-readable news: a vote counted or refused, an approval decided. */
  onNews?: (text: string) => void;
}

/** How an approval ended. */
export type Final = Exclude<ApprovalState, { status: "pending" }>;

/**
 * Parks actions that need approval and collects signed votes. DuckDB lets one process write the
 * ledger, so people do not write it: `deno task approve` drops a signed vote file into the inbox,
 * and the process that parked the request checks it and records the outcome. Requests, counted
 * and refused votes all live in the ledger, so a restarted process picks up where it was.
 */
export class ApprovalDesk {
  readonly #requests = new Map<string, { request: ApprovalRequest; key: string }>();
  readonly #tallies = new Map<string, ApprovalTally>();
  readonly #seenFiles = new Set<string>();
  readonly #finals = new Map<string, Final>();
  /** The inbox locks this process holds for requests it waits on (see approval_inbox.ts). */
  readonly #waiting = new Map<string, Promise<Disposable>>();

  private constructor(readonly o: DeskOptions) {}

  /** Opens the desk, rebuilding every approval's state from the ledger. */
  static async open(o: DeskOptions): Promise<ApprovalDesk> {
    const desk = new ApprovalDesk(o);
    for await (const e of o.ledger.events(APPROVAL_EVENTS)) {
      switch (e.type) {
        case "approval_requested":
          desk.#requests.set(e.payload.request.id, e.payload);
          desk.#tallies.set(e.payload.request.id, new ApprovalTally(e.payload.request));
          break;
        case "approval_vote_counted":
          desk.#seenFiles.add(e.payload.file);
          desk.#tallies.get(e.payload.approvalId)?.add(e.payload.vote);
          break;
        case "approval_vote_refused":
          desk.#seenFiles.add(e.payload.file);
          break;
        case "approval_decided":
          if (e.payload.state.status !== "pending") {
            desk.#finals.set(e.payload.approvalId, e.payload.state);
          }
          break;
      }
    }
    return desk;
  }

  /** A request made here (or before a restart), by id. */
  get(id: string): ApprovalRequest | undefined {
    return this.#requests.get(id)?.request;
  }

  /**
   * Parks an action. `key` makes it idempotent within a run: asking again after a restart
   * returns the request made before, with the votes it already has.
   */
  async request(input: {
    runId: string | null;
    key: string;
    action: string;
    actor: string;
    resources: string[];
    summary: string;
    approval: Approval;
  }): Promise<ApprovalRequest> {
    for (const { request, key } of this.#requests.values()) {
      if (request.runId === input.runId && key === input.key) {
        if (!this.#finals.has(request.id)) await this.#hold(request.id);
        return request;
      }
    }
    const now = this.#now();
    const request: ApprovalRequest = {
      id: `apr-${crypto.randomUUID().slice(0, 8)}`,
      runId: input.runId,
      action: input.action,
      actor: input.actor,
      resources: input.resources,
      summary: input.summary,
      roles: input.approval.roles,
      threshold: input.approval.threshold,
      requestedAt: now,
      expiresAt: now + input.approval.expiresInMs,
    };
    await Deno.mkdir(join(this.o.dir, request.id), { recursive: true });
    await this.#hold(request.id); // before the request file is there to be listed
    await Deno.writeTextFile(
      join(this.o.dir, `${request.id}.request.json`),
      JSON.stringify(request, null, 2),
    );
    await this.o.ledger.record(ApprovalRequested, {
      runId: input.runId,
      actor: input.actor,
      payload: { request, key: input.key },
    });
    this.#requests.set(request.id, { request, key: input.key });
    this.#tallies.set(request.id, new ApprovalTally(request));
    return request;
  }

  /** Reads new votes for one request, records each as counted or refused, and returns the state. */
  async poll(id: string): Promise<ApprovalState> {
    const final = this.#finals.get(id);
    if (final) return final;
    const tally = this.#tallies.get(id);
    if (!tally) throw new Error(`no approval ${id} was requested here`);
    const { request } = tally;
    const files: string[] = [];
    try {
      for await (const e of Deno.readDir(join(this.o.dir, id))) {
        if (e.isFile && e.name.endsWith(".vote.json")) files.push(join(id, e.name));
      }
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
    const fresh = files.filter((f) => !this.#seenFiles.has(f)).sort();
    // Read per batch of new votes, so that a key trusted while a request waits can sign it.
    const trust = fresh.length > 0 ? await readTrustList(this.o.keyDir) : { keys: [] };
    for (const file of fresh) {
      this.#seenFiles.add(file);
      let reason: string | undefined;
      let vote: Vote | undefined;
      try {
        const checked = await checkVote(await readVote(join(this.o.dir, file)), request, trust);
        if (checked.ok) ({ vote } = checked);
        else reason = checked.reason;
      } catch (err) {
        reason = `unreadable vote: ${(err as Error).message}`;
      }
      if (vote) reason = tally.add(vote);
      const base = { approvalId: id, file };
      if (reason || !vote) {
        await this.#record(request, ApprovalVoteRefused, {
          ...base,
          ...(reason ? { reason } : {}),
          ...(vote ? { signer: vote.signer } : {}),
        });
        this.o.onNews?.(`${id}: a vote (${file}) does not count: ${reason}`);
      } else {
        await this.#record(request, ApprovalVoteCounted, { ...base, vote });
        const n = tally.signers.size;
        this.o.onNews?.(
          vote.decision === "approve"
            ? `${id}: signed by ${vote.signer} (${n}/${request.threshold} signatures)`
            : `${id}: rejected by ${vote.signer}: ${vote.reason || "no reason given"}`,
        );
      }
    }
    const state = tally.state(this.#now());
    if (state.status !== "pending") {
      this.#finals.set(id, state);
      this.#release(id);
      await this.#record(request, ApprovalDecided, { approvalId: id, state });
      await Deno.writeTextFile(
        join(this.o.dir, `${id}.outcome.json`),
        JSON.stringify(state, null, 2),
      );
      this.o.onNews?.(`${id}: ${describe(request, state)}`);
    }
    return state;
  }

  /** Polls until the request is granted, rejected or expired. Other work goes on meanwhile. */
  async wait(id: string, signal?: AbortSignal): Promise<Final> {
    if (!this.#finals.has(id)) await this.#hold(id);
    for (;;) {
      const state = await this.poll(id);
      if (state.status !== "pending") return state;
      signal?.throwIfAborted();
      await new Promise((r) => setTimeout(r, this.o.pollMs ?? 200));
    }
  }

  /** Releases every inbox lock: requests still open are listed as orphaned until resumed. */
  close(): void {
    for (const id of [...this.#waiting.keys()]) this.#release(id);
  }

  /** `using desk = await ApprovalDesk.open(…)` releases its inbox locks at the end of the scope. */
  [Symbol.dispose](): void {
    this.close();
  }

  async #hold(id: string): Promise<void> {
    if (!this.#waiting.has(id)) this.#waiting.set(id, holdWaiting(this.o.dir, id));
    await this.#waiting.get(id);
  }

  #release(id: string): void {
    this.#waiting.get(id)?.then((lock) => lock[Symbol.dispose](), () => {});
    this.#waiting.delete(id);
  }

  #now(): number {
    return this.o.now?.() ?? Date.now();
  }

  #record<S extends z.ZodType>(
    request: ApprovalRequest,
    kind: EventType<string, S>,
    payload: z.input<S>,
  ) {
    return this.o.ledger.record(kind, { runId: request.runId, actor: "approvals", payload });
  }
}

/** One line on how an approval ended, for reports and task failures. */
export function describe(request: ApprovalRequest, state: ApprovalState): string {
  switch (state.status) {
    case "granted":
      return `approved by ${state.signers.join(", ")}`;
    case "rejected":
      return `rejected by ${state.by}: ${state.reason || "no reason given"}`;
    case "expired":
      return `expired at ${new Date(request.expiresAt).toISOString()} with too few signatures`;
    case "pending":
      return `waiting: ${state.signers.length}/${request.threshold} signatures`;
  }
}
