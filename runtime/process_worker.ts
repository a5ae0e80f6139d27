import { waitAtMost } from "./deadline.ts";
import { encodeFrame, FrameKind, FrameReader, SHARED_MARK } from "./process_frames.ts";

const CHILD = new URL("./process_child.ts", import.meta.url).href;
const CONFIG = new URL("../deno.json", import.meta.url);

/** The part of a web `Worker` the hosts use; a `Worker` and a `ProcessWorker` both are one. */
export interface WorkerLike {
  /** Sends a copy of `message` (structured clone). */
  postMessage(message: unknown, transfer?: Transferable[]): void;
  /** Stops it; a process for sure, a worker thread unless it spins. */
  terminate(): void;
  onmessage: ((e: MessageEvent) => void) | null;
  onerror: ((e: ErrorEvent) => void) | null;
  onmessageerror: ((e: MessageEvent) => void) | null;
}

/** How a `ProcessWorker` is started. */
export interface ProcessWorkerOptions {
  /** Shown in errors and process listings. */
  name: string;
  /** The process's Deno permissions, as a worker's would be given. */
  permissions: Deno.PermissionOptionsObject;
  /**
   * Also run it under bubblewrap where the system has it (and it works here): the whole file
   * system read-only (troupe's own folder may be anywhere, /tmp included), no network, new
   * namespaces, killed with its host; Deno's permissions then have a second wall behind them.
   */
  bubblewrap?: boolean;
  /**
   * The heap the host allows (`maxHeapMb`): V8's own limit for the process is twice it, so that
   * the host's check (at beats) catches a leak first, and V8 ends only this process if not.
   */
  maxHeapMb?: number;
}

let confineCommand: string[] | undefined;
/**
 * `setpriv --pdeathsig KILL` when the system has it: a child whose host dies is killed by the
 * kernel, even one spinning where it cannot notice its stdin closing.
 */
function confine(): string[] {
  if (confineCommand) return confineCommand;
  try {
    Deno.statSync("/usr/bin/setpriv");
    confineCommand = ["/usr/bin/setpriv", "--pdeathsig", "KILL", "--"];
  } catch {
    confineCommand = [];
  }
  return confineCommand;
}

const BWRAP = "/usr/bin/bwrap";
const BWRAP_ARGS =
  "--ro-bind / / --dev /dev --proc /proc --unshare-all --die-with-parent --new-session"
    .split(" ");
let bubblewrapCommand: string[] | null | undefined;
/** bubblewrap's prefix when it is installed and can make namespaces here (tried once), else undefined. */
function bubblewrap(): string[] | undefined {
  if (bubblewrapCommand === undefined) {
    try {
      const ok = new Deno.Command(BWRAP, {
        args: [...BWRAP_ARGS, "--", "/bin/true"],
        stdout: "null",
        stderr: "null",
      }).outputSync().success;
      bubblewrapCommand = ok ? [BWRAP, ...BWRAP_ARGS, "--"] : null;
    } catch {
      bubblewrapCommand = null;
    }
  }
  return bubblewrapCommand ?? undefined;
}

/** Deno's command-line flags for a permission object (what a worker would have been granted). */
export function permissionFlags(p: Deno.PermissionOptionsObject): string[] {
  const flags: string[] = [];
  for (const name of ["read", "write", "net", "env", "run", "sys", "ffi"] as const) {
    const grant = p[name];
    if (grant === true) flags.push(`--allow-${name}`);
    else if (Array.isArray(grant) && grant.length > 0) {
      flags.push(`--allow-${name}=${grant.map(String).join(",")}`);
    }
  }
  return flags;
}

/**
 * Runs a worker's module in a Deno process of its own, behind a `Worker`'s interface. What
 * cannot be stopped inside a process can be from outside it: `terminate()` is SIGKILL, which
 * ends even a thread spinning in `while (true) {}` (a web Worker's `terminate()` leaves such a
 * thread running for as long as the process lives). Messages cross stdin and stdout as V8
 * structured-clone frames; shared buffers are mirrored from the child (see `process_child.ts`).
 */
export class ProcessWorker implements WorkerLike {
  onmessage: ((e: MessageEvent) => void) | null = null;
  onerror: ((e: ErrorEvent) => void) | null = null;
  onmessageerror: ((e: MessageEvent) => void) | null = null;
  readonly #child: Deno.ChildProcess;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array>;
  #queued: Uint8Array[] = [];
  #writing = false;
  #mirrors: Uint8Array[] = [];
  #ended = false;
  #stderrTail = "";

  /** Starts `main` (a module URL, `data:` included) in a new process. */
  constructor(main: string, readonly options: ProcessWorkerOptions) {
    const deno = Deno.execPath();
    const heap = options.maxHeapMb
      ? [`--v8-flags=--max-old-space-size=${Math.max(256, options.maxHeapMb * 2)}`]
      : [];
    const wrap = options.bubblewrap ? bubblewrap() ?? confine() : confine();
    const [command, ...prefix] = [...wrap, deno];
    const entry = "data:text/javascript," + encodeURIComponent(
      `import ${JSON.stringify(CHILD)};\nimport ${JSON.stringify(main)};\n`,
    );
    this.#child = new Deno.Command(command, {
      args: [
        ...prefix,
        "run",
        "--quiet",
        "--no-prompt",
        `--config=${CONFIG.pathname}`,
        ...heap,
        ...permissionFlags(options.permissions),
        entry,
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
    }).spawn();
    this.#stdin = this.#child.stdin.getWriter();
    void this.#read();
    void this.#readStderr();
    void this.#child.status.then((s) => {
      if (this.#ended) return;
      const how = s.signal ? `was killed by ${s.signal}` : `exited with code ${s.code}`;
      const tail = this.#stderrTail.trim().split("\n").slice(-3).join(" | ");
      this.#error(`its process ${how}${tail ? `: ${tail}` : ""}`);
    });
  }

  /** The process id (for tests that check it is gone). */
  get pid(): number {
    return this.#child.pid;
  }

  /** The process's exit, once it has ended. */
  get status(): Promise<Deno.CommandStatus> {
    return this.#child.status;
  }

  /** Sends a copy of `message` as a frame; throws, as a worker does, when it cannot be cloned. */
  postMessage(message: unknown): void {
    if (this.#ended) return;
    this.#queued.push(encodeFrame(FrameKind.message, this.#mark(message)));
    if (!this.#writing) void this.#flush();
  }

  /** SIGKILL: the process ends whatever its thread is doing. */
  terminate(): void {
    if (this.#ended) return;
    this.#ended = true;
    try {
      this.#child.kill("SIGKILL");
    } catch { /* already gone */ }
  }

  /**
   * Ends the process as it ends itself when its host goes (stdin closed, then `Deno.exit`), so
   * that what it buffers for export (its spans) is sent; SIGKILL if it is not gone in `graceMs`.
   */
  async close(graceMs: number): Promise<void> {
    if (this.#ended) return;
    this.#ended = true;
    await this.#stdin.close().catch(() => {});
    await waitAtMost(this.#child.status, graceMs);
    try {
      this.#child.kill("SIGKILL");
    } catch { /* gone, as it should be */ }
  }

  /** Replaces top-level shared buffers with markers and remembers them for the child's mirrors. */
  #mark(message: unknown): unknown {
    if (typeof message !== "object" || message === null) return message;
    const shared = Object.entries(message).filter(([, v]) => v instanceof SharedArrayBuffer);
    if (shared.length === 0) return message;
    const copy: Record<string, unknown> = { ...message };
    for (const [key, buffer] of shared) {
      this.#mirrors.push(new Uint8Array(buffer as SharedArrayBuffer));
      copy[key] = { [SHARED_MARK]: (buffer as SharedArrayBuffer).byteLength };
    }
    return copy;
  }

  /** Writes queued frames in order, as many as have queued in one write. */
  async #flush(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#queued.length > 0 && !this.#ended) {
        const frames = this.#queued;
        this.#queued = [];
        const bytes = frames.length === 1 ? frames[0] : concat(frames);
        await this.#stdin.write(bytes);
      }
    } catch (err) {
      if (!this.#ended) this.#error(`could not write to its process: ${(err as Error).message}`);
    } finally {
      this.#writing = false;
    }
  }

  async #read(): Promise<void> {
    const reader = new FrameReader();
    try {
      for await (const chunk of this.#child.stdout) {
        for (const frame of reader.push(chunk)) {
          if (this.#ended) return;
          if (frame.kind === FrameKind.message) {
            this.onmessage?.(new MessageEvent("message", { data: frame.value }));
          } else if (frame.kind === FrameKind.mirror) {
            const { i, bytes } = frame.value as { i: number; bytes: Uint8Array };
            this.#mirrors[i]?.set(bytes.subarray(0, this.#mirrors[i].length));
          } else if (frame.kind === FrameKind.error) {
            this.#error((frame.value as { message: string }).message);
          }
        }
      }
    } catch (err) {
      if (!this.#ended) this.#error(`sent what is not a frame: ${(err as Error).message}`);
    }
  }

  /** Keeps the last few KiB the process wrote to stderr, for the error when it dies. */
  async #readStderr(): Promise<void> {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of this.#child.stderr) {
        this.#stderrTail = (this.#stderrTail + decoder.decode(chunk)).slice(-4096);
      }
    } catch { /* the process is gone */ }
  }

  #error(message: string): void {
    if (this.#ended) return;
    this.terminate();
    const event = new ErrorEvent("error", { message: `${this.options.name}: ${message}` });
    this.onerror?.(event);
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
