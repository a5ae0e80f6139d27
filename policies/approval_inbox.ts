import { join } from "node:path";
import { readTextLimited } from "../runtime/read_limited.ts";
import { TroupeError } from "../runtime/errors.ts";
import { ApprovalRequest, checkVote, requestHash, type SignedVote } from "./approval.ts";
import type { TrustList } from "./keys.ts";

/**
 * The approvals inbox on disk, shared by the process that waits and the people who vote:
 * `ID.request.json` for each request, `ID/*.vote.json` for votes, `ID.outcome.json` once decided,
 * and `ID.waiting`, locked by the process waiting on it for as long as it waits. The lock is the
 * kernel's, so it is released the moment that process dies, whatever killed it.
 */

/** Votes are small; a larger file in the inbox is refused unread. */
export const MAX_VOTE_BYTES = 64 * 1024;

/** How a request in the inbox stands, as `deno task approvals` lists it. */
export type InboxStatus =
  | { status: "pending" }
  | { status: "orphaned"; reason: string }
  | { status: "expired" }
  | { status: string; [k: string]: unknown };

/** A request in the inbox, with its vote files and how it stands. */
export interface InboxEntry extends ApprovalRequest {
  /** What a vote on this request signs (see `requestHash`), so a page can sign without it. */
  requestHash: string;
  votes: string[];
  outcome: InboxStatus;
}

/** Reads `ID.request.json` from the inbox. */
export async function readRequest(dir: string, id: string): Promise<ApprovalRequest> {
  let text: string;
  try {
    text = await readTextLimited(join(dir, `${id}.request.json`), MAX_VOTE_BYTES);
  } catch {
    throw new TroupeError("not_found", `no approval "${id}" in ${dir} (see deno task approvals)`, {
      id,
    });
  }
  return ApprovalRequest.parse(JSON.parse(text));
}

/** Reads one vote file, refusing one over MAX_VOTE_BYTES without reading it whole. */
export async function readVote(path: string): Promise<unknown> {
  return JSON.parse(await readTextLimited(path, MAX_VOTE_BYTES));
}

/** Holds `ID.waiting` locked until disposed: other processes see that someone waits. */
export async function holdWaiting(dir: string, id: string): Promise<Disposable> {
  const file = await Deno.open(join(dir, `${id}.waiting`), { create: true, write: true });
  await file.lock(true);
  return file;
}

/** True when a live process holds `ID.waiting`. */
async function someoneWaits(dir: string, id: string): Promise<boolean> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(join(dir, `${id}.waiting`), { read: true });
  } catch {
    return false;
  }
  try {
    const free = await file.tryLock(false);
    return !free;
  } finally {
    file.close();
  }
}

/** Every request in the inbox with its votes and how it stands, oldest first. */
export async function listApprovals(dir: string, now = Date.now()): Promise<InboxEntry[]> {
  const rows: InboxEntry[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      if (!e.name.endsWith(".request.json")) continue;
      const request = await readRequest(dir, e.name.replace(".request.json", ""));
      const decided = await readTextLimited(join(dir, `${request.id}.outcome.json`), MAX_VOTE_BYTES)
        .then((t) => JSON.parse(t) as InboxStatus, () => undefined);
      const outcome: InboxStatus = decided ??
        (now >= request.expiresAt
          ? { status: "expired" }
          : await someoneWaits(dir, request.id)
          ? { status: "pending" }
          : {
            status: "orphaned",
            reason: `no process is waiting on it; ${
              request.runId ? `deno task run --resume ${request.runId}` : "the requester"
            } picks it up with the votes cast so far`,
          });
      const votes: string[] = [];
      try {
        for await (const v of Deno.readDir(join(dir, request.id))) {
          if (v.name.endsWith(".vote.json")) votes.push(v.name);
        }
      } catch { /* no votes yet */ }
      rows.push({
        ...request,
        requestHash: requestHash(request),
        votes: votes.sort(),
        outcome,
      });
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  return rows.sort((a, b) => a.requestedAt - b.requestedAt);
}

/**
 * Drops a signed vote into the inbox after checking it would count, so that a vote that cannot
 * count is refused at once, not later. Returns the file written.
 */
export async function castVote(
  dir: string,
  signed: SignedVote,
  request: ApprovalRequest,
  trust: TrustList,
): Promise<string> {
  const decided = await readTextLimited(join(dir, `${request.id}.outcome.json`), MAX_VOTE_BYTES)
    .catch(() => null);
  if (decided) {
    throw new TroupeError(
      "already_decided",
      `approval ${request.id} is already decided: ${decided.replace(/\s+/g, " ")}`,
      { id: request.id },
    );
  }
  const checked = await checkVote(signed, request, trust);
  if (!checked.ok) {
    throw new TroupeError("vote_refused", `this vote would not count: ${checked.reason}`, {
      id: request.id,
    });
  }
  const file = join(dir, request.id, `${signed.vote.signer}-${signed.vote.signedAt}.vote.json`);
  await Deno.mkdir(join(dir, request.id), { recursive: true });
  await Deno.writeTextFile(file, JSON.stringify(signed, null, 2), { createNew: true });
  return file;
}
