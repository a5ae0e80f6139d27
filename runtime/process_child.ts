/**
 * Imported first by a process that runs worker code (`ProcessWorker`): gives it a worker's
 * global `postMessage` and `onmessage` over frames on stdin and stdout, so the same entry
 * (`worker_entry.ts`, `sandbox_worker.ts`) runs in a thread or a process unchanged. stdout
 * carries frames only: the console writes to stderr.
 */
import { encodeFrame, FrameKind, FrameReader, SHARED_MARK } from "./process_frames.ts";

type Scope = typeof globalThis & {
  postMessage(m: unknown, transfer?: unknown): void;
  onmessage: ((e: { data: unknown }) => void) | null;
};
const scope = globalThis as Scope;

for (const level of ["log", "info", "debug", "trace", "dir", "table"] as const) {
  (console as unknown as Record<string, unknown>)[level] = console.error;
}

function write(frame: Uint8Array): void {
  for (let at = 0; at < frame.length;) at += Deno.stdout.writeSync(frame.subarray(at));
}

// The mirrors go first: the host then reads a message with the pulse as it stood when sent.
scope.postMessage = (m: unknown) => {
  sendMirrors();
  write(encodeFrame(FrameKind.message, m));
};
scope.onmessage = null;

/** Buffers the host shared with this code: this process's copies, mirrored back while they change. */
const mirrors: { bytes: Uint8Array; last: Uint8Array }[] = [];
let mirroring: ReturnType<typeof setInterval> | undefined;
let lastChange = 0;
/** The longest quiet between two changes seen so far (a pulse's beat period, once it beats). */
let longestGap = 0;

/**
 * Sends each mirrored buffer that changed. Runs on this process's only thread, so a thread
 * stuck in a loop sends nothing, exactly as it would beat nothing. It stops itself once the
 * buffers have stayed still for three of their longest gaps (2 s at least): an idle actor wakes
 * for nothing, and one still beating, however slowly, keeps being mirrored. The next message
 * restarts it.
 */
function mirror(): void {
  const now = performance.now();
  if (sendMirrors()) {
    if (lastChange > 0) longestGap = Math.max(longestGap, now - lastChange);
    lastChange = now;
  } else if (now - lastChange > Math.max(2_000, 3 * longestGap)) {
    clearInterval(mirroring);
    mirroring = undefined;
  }
}

/** Sends the mirrored buffers that changed since last sent; true if any had. */
function sendMirrors(): boolean {
  let changed = false;
  mirrors.forEach(({ bytes, last }, i) => {
    if (bytes.every((b, k) => b === last[k])) return;
    last.set(bytes);
    changed = true;
    write(encodeFrame(FrameKind.mirror, { i, bytes: bytes.slice() }));
  });
  return changed;
}

function watchMirrors(): void {
  lastChange = performance.now();
  if (mirrors.length > 0) mirroring ??= setInterval(mirror, 25);
}

/** Replaces each top-level shared-buffer marker with a buffer of this process's own. */
function unmark(data: unknown): unknown {
  if (typeof data !== "object" || data === null) return data;
  const record = data as Record<string, unknown>;
  for (const [key, value] of Object.entries(record)) {
    const size = (value as Record<string, unknown> | null)?.[SHARED_MARK];
    if (typeof size !== "number") continue;
    const buffer = new SharedArrayBuffer(size);
    mirrors.push({ bytes: new Uint8Array(buffer), last: new Uint8Array(size) });
    record[key] = buffer;
  }
  return data;
}

function reportError(message: string): void {
  write(encodeFrame(FrameKind.error, { message }));
  Deno.exit(1);
}
globalThis.addEventListener("error", (e) => {
  e.preventDefault();
  reportError(e.message || String(e.error));
});
globalThis.addEventListener("unhandledrejection", (e) => {
  e.preventDefault();
  reportError(`Uncaught (in promise) ${(e.reason as Error)?.stack ?? e.reason}`);
});

async function readFrames(): Promise<void> {
  const reader = new FrameReader();
  // `read` into one buffer: a round trip costs a third of what `stdin.readable` makes it.
  const buffer = new Uint8Array(256 * 1024);
  for (let n; (n = await Deno.stdin.read(buffer)) !== null;) {
    for (const frame of reader.push(buffer.subarray(0, n))) {
      if (frame.kind !== FrameKind.message) continue;
      const data = unmark(frame.value);
      watchMirrors();
      scope.onmessage?.({ data });
    }
  }
  Deno.exit(0); // the host is gone
}
void readFrames();
