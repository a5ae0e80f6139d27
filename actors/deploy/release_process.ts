import { spawn } from "node:child_process";
import { z } from "zod";
import { realClock, sleep } from "../../runtime/mod.ts";

/** A release's service process: which release, where it listens, its process (group) id. */
export const ReleaseProcess = z.object({
  id: z.string(),
  port: z.number().int(),
  pid: z.number().int(),
});
export type ReleaseProcess = z.infer<typeof ReleaseProcess>;

/** A port nothing listens on now (the kernel's choice), for the next release. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/**
 * Starts a release's service in a session of its own (so that it outlives the deploy command and
 * its whole process group can be stopped), its output appended to `log`. The process carries
 * `TROUPE_RELEASE=<id>`, by which it is recognised before it is ever signalled.
 */
export function startRelease(
  o: { id: string; dir: string; start: string[]; port: number; log: string },
): ReleaseProcess {
  // node:child_process, for `detached`: the child calls setsid() itself, so its pid is the
  // session's and its group's (the setsid program forks when its caller leads a group).
  const child = spawn("sh", ["-c", 'exec "$@" >>"$TROUPE_RELEASE_LOG" 2>&1', "sh", ...o.start], {
    cwd: o.dir,
    env: {
      ...Deno.env.toObject(),
      PORT: String(o.port),
      TROUPE_RELEASE: o.id,
      TROUPE_RELEASE_LOG: o.log,
    },
    detached: true,
    stdio: "ignore",
  });
  child.unref();
  if (child.pid === undefined) throw new Error(`could not start ${o.start.join(" ")} in ${o.dir}`);
  return { id: o.id, port: o.port, pid: child.pid };
}

/**
 * A file of `/proc/PID/`, read by `cat`: Deno lets only a fully trusted (`--allow-all`) process
 * read another process's files there, and troupe runs with named permissions.
 */
export async function readProc(pid: number, file: string): Promise<string | undefined> {
  const out = await new Deno.Command("cat", {
    args: [`/proc/${pid}/${file}`],
    stdout: "piped",
    stderr: "null",
  }).output();
  return out.success ? new TextDecoder().decode(out.stdout) : undefined;
}

/**
 * The processes of a release: every process carrying `TROUPE_RELEASE=<id>` (its children inherit
 * it), so pids reused by others are never signalled and a child outliving its parent is found.
 */
async function releasePids(id: string): Promise<number[]> {
  const out = await new Deno.Command("sh", {
    args: ["-c", 'grep -lsxz "TROUPE_RELEASE=$1" /proc/[0-9]*/environ', "sh", id],
    stdout: "piped",
    stderr: "null",
  }).output();
  return [...new TextDecoder().decode(out.stdout).matchAll(/\/proc\/(\d+)\//g)].map((m) =>
    Number(m[1])
  );
}

/** True while any process of the release runs. */
export async function isRunning(release: ReleaseProcess): Promise<boolean> {
  return (await releasePids(release.id)).length > 0;
}

function signal(pids: number[], sig: Deno.Signal): void {
  for (const pid of pids) {
    try {
      Deno.kill(pid, sig);
    } catch { /* gone already */ }
  }
}

/** Stops every process of a release: SIGTERM, then SIGKILL after `graceMs`. */
export async function stopRelease(release: ReleaseProcess, graceMs = 3000): Promise<void> {
  let pids = await releasePids(release.id);
  signal(pids, "SIGTERM");
  for (const end = Date.now() + graceMs; pids.length > 0 && Date.now() < end;) {
    await sleep(realClock, 50);
    pids = await releasePids(release.id);
  }
  signal(pids, "SIGKILL");
}

/** What a health check saw. */
export interface Health {
  healthy: boolean;
  /** The path checked last, and its HTTP status (0: no answer). */
  path: string;
  status: number;
  tries: number;
  /** The release's processes had all ended before it answered: no use trying again. */
  exited?: boolean;
}

/** One GET of `path` on the release; 2xx and 3xx are healthy. */
async function probe(port: number, path: string): Promise<number> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, {
      redirect: "manual",
      signal: AbortSignal.timeout(2000),
    });
    await res.body?.cancel();
    return res.status;
  } catch {
    return 0;
  }
}

/**
 * Checks a release over HTTP at most `tries` times, `intervalMs` apart, until it answers
 * healthy. `path` given: that path only; otherwise `/health`, and `/` if there is no `/health`.
 * With `alive`, a release that gave no answer and has ended is not waited for.
 */
export async function checkHealth(
  port: number,
  o: { path?: string; tries: number; intervalMs: number; alive?: () => Promise<boolean> },
): Promise<Health> {
  let last: Health = { healthy: false, path: o.path ?? "/health", status: 0, tries: 0 };
  for (let i = 1; i <= o.tries; i++) {
    let path = o.path ?? "/health";
    let status = await probe(port, path);
    if (status === 404 && o.path === undefined) status = await probe(port, path = "/");
    last = { healthy: status >= 200 && status < 400, path, status, tries: i };
    if (last.healthy) return last;
    if (status === 0 && o.alive && !(await o.alive())) return { ...last, exited: true };
    if (i < o.tries) await sleep(realClock, o.intervalMs);
  }
  return last;
}

/**
 * What a service said as it died, from the end of its log: the last line naming an error (a
 * stack trace's head, Python's last line), else the last line; a few words for a report.
 */
export async function lastWords(log: string): Promise<string | undefined> {
  let text: string;
  try {
    const file = await Deno.open(log);
    try {
      const size = (await file.stat()).size;
      await file.seek(Math.max(0, size - 8192), Deno.SeekMode.Start);
      const buf = new Uint8Array(8192);
      const n = (await file.read(buf)) ?? 0;
      text = new TextDecoder().decode(buf.subarray(0, n));
    } finally {
      file.close();
    }
  } catch {
    return undefined;
  }
  const lines = text.split("\n").map((l) => l.trim()).filter((l) => l !== "");
  // A stack frame (`at f (file:1:2)`) is where, not what.
  const error = lines.findLast((l) =>
    !l.startsWith("at ") && /(Error|Exception)\b|\berror\b/i.test(l)
  );
  const line = error ?? lines.at(-1);
  return line && (line.length > 200 ? `${line.slice(0, 200)}…` : line);
}
