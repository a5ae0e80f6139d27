import { dirname, join } from "node:path";
import type { Ledger } from "../../ledger/mod.ts";
import {
  type ApprovalDesk,
  type ApprovalRequest,
  combineApprovals,
  type Decision,
  describe,
  type PolicyEngine,
} from "../../policies/mod.ts";
import { alreadyAppended, type GeneratedFile } from "../tasks/repo_facts.ts";
import { FileApplied } from "./run_events.ts";

export interface ApplyOptions {
  ledger: Ledger;
  runId: string;
  repo: string;
  files: GeneratedFile[];
  verdict: string | undefined;
  policy: PolicyEngine;
  desk: ApprovalDesk;
  signal?: AbortSignal;
  onApprovalNeeded?: (request: ApprovalRequest) => void;
  onNews?: (text: string) => void;
}

/**
 * Writes reviewed files into the repository, each decided by policy as `fs.write` (`fs.delete` for a deletion), each at most
 * once a run (a `file_applied` event per file, and no write when the file already holds it).
 * Writes that need approval are parked together as one request and wait for it.
 */
export async function applyFiles(
  o: ApplyOptions,
): Promise<{ applied: string[]; refused?: string }> {
  const { ledger, runId, repo } = o;
  if (o.verdict !== "approve") {
    return { applied: [], refused: `the review verdict is ${o.verdict ?? "missing"}` };
  }
  const done = new Set<string>();
  for await (const e of ledger.events([FileApplied], { runId })) done.add(e.payload.path);
  const allowed: GeneratedFile[] = [];
  const waiting: { file: GeneratedFile; approval: NonNullable<Decision["approval"]> }[] = [];
  let refused: string | undefined;
  for (const f of o.files) {
    if (done.has(f.path)) continue; // applied before a crash: appending again would duplicate
    const d = o.policy.decide({
      action: f.mode === "delete" ? "fs.delete" : "fs.write",
      actor: "orchestrator",
      resource: f.path,
      risk: "medium",
    });
    if (d.effect === "allow") allowed.push(f);
    else if (d.effect === "require_approval") waiting.push({ file: f, approval: d.approval! });
    else {
      o.onNews?.(`not applying ${f.path}: ${d.reason}`);
      refused = `policy denied writing ${f.path}`;
    }
  }
  if (waiting.length > 0) {
    const paths = waiting.map((w) => w.file.path);
    const request = await o.desk.request({
      runId,
      key: "apply",
      action: "fs.write",
      actor: "orchestrator",
      resources: paths,
      summary: `write ${paths.length} file(s) into ${repo}: ${paths.join(", ")}`,
      approval: combineApprovals(waiting.map((w) => w.approval)),
    });
    o.onApprovalNeeded?.(request);
    const state = await o.desk.wait(request.id, o.signal).catch((err) => {
      if (o.signal?.aborted) return undefined;
      throw err;
    });
    if (!state) refused = `the run was cancelled while approval ${request.id} waited`;
    else if (state.status === "granted") allowed.push(...waiting.map((w) => w.file));
    else refused = `approval ${request.id} ${describe(request, state)}`;
  }
  const applied: string[] = [];
  for (const f of o.files.filter((f) => allowed.includes(f))) {
    const target = join(repo, f.path);
    await Deno.mkdir(dirname(target), { recursive: true });
    // A process killed between the write and its event left the write done: a file that already
    // holds what would be written (created, or ending with what is appended) is not written again.
    if (f.mode === "delete") await Deno.remove(target).catch(() => {}); // gone already: done
    else if (!await holds(target, f)) {
      await Deno.writeTextFile(target, f.content, {
        append: f.mode === "append",
        createNew: f.mode === "create",
      });
    }
    await ledger.record(FileApplied, {
      runId,
      actor: "orchestrator",
      payload: { path: f.path, mode: f.mode },
    });
    applied.push(f.path);
  }
  return { applied, refused };
}

/** True when `target` already holds what writing `f` would leave there. */
async function holds(target: string, f: GeneratedFile): Promise<boolean> {
  let text: string;
  try {
    text = await Deno.readTextFile(target);
  } catch {
    return false; // not there (or unreadable: the write says why)
  }
  return f.mode === "append" ? alreadyAppended(text, f) : text === f.content;
}
