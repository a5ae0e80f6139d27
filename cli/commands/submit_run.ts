import { EventSourceParserStream } from "eventsource-parser/stream";
import type { Progress } from "../../actors/mod.ts";
import type { RemoteRunRequest, RunView } from "../../control/mod.ts";

/**
 * `deno task run --server URL`: sends the run to a troupe server, follows its task events live
 * (Server-Sent Events) and prints the outcome, with the exit code a local run would have.
 */
export async function submitToServer(
  server: string,
  token: string | undefined,
  o: {
    request: RemoteRunRequest;
    resume?: string;
    json: boolean;
    onProgress: (p: Progress) => void;
  },
): Promise<number> {
  const base = server.replace(/\/+$/, "");
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  const call = async (path: string, init: RequestInit = {}) => {
    const res = await fetch(`${base}${path}`, { ...init, headers });
    const body = await res.json().catch(() => ({}));
    if (!res.ok) {
      throw new Error(
        `${server} answered ${res.status}: ${body?.error?.message ?? res.statusText}`,
      );
    }
    return body;
  };
  let runId: string;
  try {
    if (o.resume) {
      await call(`/runs/${encodeURIComponent(o.resume)}/resume`, { method: "POST" });
      runId = o.resume;
    } else {
      runId = (await call("/runs", { method: "POST", body: JSON.stringify(o.request) })).runId;
    }
  } catch (err) {
    console.error(`troupe run: ${(err as Error).message}`);
    return 1;
  }
  console.error(`run ${runId} on ${server}`);

  const stream = await fetch(`${base}/events?run=${encodeURIComponent(runId)}&mode=tasks&after=0`, {
    headers,
  });
  if (!stream.ok || !stream.body) {
    console.error(`troupe run: could not follow ${runId}: ${stream.status}`);
    return 1;
  }
  const tasks = new Map<string, string>();
  let total = 0;
  const events = stream.body.pipeThrough(new TextDecoderStream()).pipeThrough(
    new EventSourceParserStream(),
  );
  for await (const message of events) {
    const e = JSON.parse(message.data) as {
      type: string;
      actor: string;
      payload: Record<string, unknown>;
    };
    const id = String(e.payload?.taskId ?? "");
    if (e.type === "run_planned") total = (e.payload.tasks as unknown[]).length;
    else if (e.type === "task_started") tasks.set(id, `running@${e.actor}`);
    else if (e.type === "task_succeeded") tasks.set(id, "done");
    else if (e.type === "task_dead") tasks.set(id, "dead");
    else if (e.type === "task_skipped") tasks.set(id, "skipped");
    else if (e.type === "run_finished") break;
    else continue;
    if (!id) continue;
    const states = [...tasks.entries()];
    o.onProgress({
      running: states.filter(([, s]) => s.startsWith("running")).map(([t, s]) =>
        `${t}@${s.slice(8)}`
      ),
      done: states.filter(([, s]) => s === "done").length,
      failed: states.filter(([, s]) => s === "dead").length,
      skipped: states.filter(([, s]) => s === "skipped").length,
      total,
      event: `${id} ${e.type.replace("task_", "")}`,
    });
  }
  const view = await call(`/runs/${encodeURIComponent(runId)}`) as RunView;
  if (o.json) console.log(JSON.stringify(view, null, 2));
  else {
    const dead = view.tasks.filter((t) => t.state === "dead").length;
    console.log(
      `run ${runId}: ${view.status}; ${view.tasks.length} tasks, ${dead} failed` +
        (view.finished?.refused ? `; not applied: ${view.finished.refused}` : ""),
    );
    console.log(`report: ${view.settings.out}/report.md`);
  }
  const ok = view.status === "finished" && !view.finished?.refused &&
    (view.finished?.dead ?? 1) === 0;
  return ok ? 0 : 1;
}
