import { fed, stablePath } from "../../../runtime/effects.ts";

/** How repository code (tests, builds) may run. */
export interface SandboxMode {
  /** Run without bubblewrap (the user's explicit choice); PATH and HOME only, as before. */
  unsandboxed?: boolean;
  /** Let the commands reach the network (install steps the user allowed). */
  network?: boolean;
  /** Programs from outside the system folders, by the name they run as: path on this machine. */
  tools?: Record<string, string>;
  /**
   * Toolchain folders of the user's home (`--home-toolchains`), shown read-only where they are;
   * those named `bin` go on PATH.
   */
  homeToolchains?: string[];
  /**
   * The scratch copy the working folder is in, writable and seen whole: a project may use its
   * neighbours (a Cargo path dependency on `..`, a workspace's root). Without it, only the folder.
   */
  root?: string;
}

/**
 * The toolchain folders in this user's home: rustup's binaries and toolchains (not the rest of
 * `~/.cargo`, which holds registry credentials), `~/.local/bin` and `~/go/bin`, where they exist.
 */
export async function homeToolchains(): Promise<string[]> {
  const home = Deno.env.get("HOME");
  if (!home) return [];
  const found: string[] = [];
  for (const dir of [".cargo/bin", ".rustup", ".local/bin", "go/bin"]) {
    const path = `${home}/${dir}`;
    if (await Deno.stat(path).then((s) => s.isDirectory, () => false)) found.push(path);
  }
  return found;
}

/** PATH inside the sandbox: lent tools, home toolchains' `bin` folders, the system's. */
function pathFor(mode: SandboxMode, tools: boolean): string {
  const bins = (mode.homeToolchains ?? []).filter((d) => d.endsWith("/bin"));
  return [...(tools ? [TOOLS_DIR] : []), ...bins, PATH].join(":");
}

/** Where the tools given by path are found inside the sandbox. */
const TOOLS_DIR = "/run/troupe-tools";

/** Read-only system folders repository code may see; everything else is absent. */
const SYSTEM = [
  "/usr",
  "/bin",
  "/sbin",
  "/lib",
  "/lib32",
  "/lib64",
  "/opt",
  "/etc/alternatives",
  "/etc/ssl",
  "/etc/ca-certificates",
  "/etc/ld.so.cache",
  "/etc/maven", // Debian's Maven reads its m2.conf here
  "/etc/gradle",
  "/etc/php", // PHP's extensions are enabled by its conf.d files
  // Debian's JDKs read their security settings here (`Error loading java.security file`).
  ...Array.from({ length: 23 }, (_, i) => `/etc/java-${i + 8}-openjdk`),
];

/**
 * What an install needs behind a proxy or from a private registry: passed into the sandbox, with
 * the files they name, whenever the network is allowed. They come from the environment of the
 * user who runs troupe, never from a request.
 */
export const NETWORK_SETTINGS = [
  "HTTPS_PROXY",
  "https_proxy",
  "HTTP_PROXY",
  "http_proxy",
  "NO_PROXY",
  "no_proxy",
  "ALL_PROXY",
  "NODE_EXTRA_CA_CERTS",
  "SSL_CERT_FILE",
  "SSL_CERT_DIR",
  "REQUESTS_CA_BUNDLE",
  "CURL_CA_BUNDLE",
  "PIP_INDEX_URL",
  "PIP_EXTRA_INDEX_URL",
  "PIP_CERT",
  "UV_INDEX_URL",
  "npm_config_registry",
  "NPM_CONFIG_REGISTRY",
  "npm_config_cafile",
  "CARGO_HTTP_CAINFO",
  "GOPROXY",
];

/** The network settings this process was given, by name. */
export function networkSettings(): Record<string, string> {
  const found: Record<string, string> = {};
  for (const name of NETWORK_SETTINGS) {
    try {
      const value = Deno.env.get(name);
      if (value) found[name] = value;
    } catch {
      // Not readable by this agent: not passed on.
    }
  }
  return found;
}

const PATH = "/usr/local/bin:/usr/bin:/bin";

let available: Promise<boolean> | undefined;

/**
 * Whether bubblewrap is installed: `bwrap --version` runs (asked once; an agent may start `bwrap`
 * but not look around the file system for it).
 */
export function sandboxAvailable(): Promise<boolean> {
  available ??= new Deno.Command("bwrap", { args: ["--version"], stdout: "null", stderr: "null" })
    .output().then((r) => r.success, () => false);
  return available;
}

/**
 * A command that runs `script` through `sh` in `dir` inside bubblewrap: the system read-only, `dir`
 * the only writable folder (a scratch copy, never the repository), a private `/tmp` as `HOME`, no
 * home directory or other files of the user, no network unless allowed, new PID, IPC and UTS
 * namespaces, and the whole process tree killed with it (`--die-with-parent`) when its time is up.
 * Without bubblewrap it refuses, naming the way out, unless the user chose `unsandboxed`.
 */
export async function sandboxedCommand(
  dir: string,
  script: string,
  mode: SandboxMode,
  signal: AbortSignal,
): Promise<Deno.Command> {
  const tools = Object.entries(mode.tools ?? {});
  const io = { stdout: "piped", stderr: "piped", stdin: "null", signal } as const;
  const settings = Object.entries(mode.network ? networkSettings() : {});
  // rustup's proxies find their toolchains by RUSTUP_HOME, not by the sandbox's HOME.
  const rustup = (mode.homeToolchains ?? []).find((d) => d.endsWith("/.rustup"));
  const env: Record<string, string> = {
    PATH: pathFor(mode, tools.length > 0),
    HOME: "/tmp",
    // Run as root (as in CI containers), Composer refuses to run a project's scripts without it.
    COMPOSER_ALLOW_SUPERUSER: "1",
    ...(rustup ? { RUSTUP_HOME: rustup } : {}),
    ...Object.fromEntries(settings),
  };
  if (mode.unsandboxed) {
    const dirs = [...new Set(tools.map(([, path]) => path.slice(0, path.lastIndexOf("/"))))];
    env.PATH = [...dirs, pathFor(mode, false)].join(":");
    return new Deno.Command("sh", { args: ["-c", script], cwd: dir, clearEnv: true, env, ...io });
  }
  if (!(await sandboxAvailable())) {
    throw new Error(
      "repository code runs only inside bubblewrap, which is not installed: install it " +
        "(apt-get install bubblewrap) or pass --unsandboxed to run it with PATH and HOME only",
    );
  }
  const args = [...bubblewrapArgs(dir, mode, env), "sh", "-c", script];
  return new Deno.Command("bwrap", { args, ...io });
}

/**
 * bubblewrap's arguments up to the command: the system and `readOnly` folders read-only, `dir`
 * writable and the working folder, a private `/tmp`, no network unless `mode` allows it, the
 * whole tree killed with troupe, and `env` as the only environment.
 */
export function bubblewrapArgs(
  dir: string,
  mode: SandboxMode,
  env: Record<string, string>,
  readOnly: string[] = [],
): string[] {
  const tools = Object.entries(mode.tools ?? {});
  const settings = Object.entries(mode.network ? networkSettings() : {});
  return [
    ...SYSTEM.flatMap((p) => ["--ro-bind-try", p, p]), // absent ones are skipped
    "--proc",
    "/proc",
    "--dev",
    "/dev",
    "--tmpfs",
    "/tmp",
    ...tools.flatMap(([name, path]) => ["--ro-bind", path, `${TOOLS_DIR}/${name}`]),
    ...(mode.homeToolchains ?? []).flatMap((d) => ["--ro-bind-try", d, d]),
    ...readOnly.flatMap((d) => ["--ro-bind", d, d]),
    "--bind",
    mode.root ?? dir,
    mode.root ?? dir,
    "--chdir",
    dir,
    "--unshare-all",
    ...(mode.network
      ? ["--share-net", "--ro-bind-try", "/etc/resolv.conf", "/etc/resolv.conf"]
      : []),
    // A CA bundle a setting names is seen where it says.
    ...settings.flatMap(([, v]) => v.startsWith("/") ? ["--ro-bind-try", v, v] : []),
    "--die-with-parent",
    "--new-session",
    // bwrap applies these in order: the environment is cleared, then given only these.
    "--clearenv",
    ...Object.entries(env).flatMap(([k, v]) => ["--setenv", k, v]),
  ];
}

/** What a sandboxed command did: its exit code (null when it could not start), its output. */
export interface SandboxRun {
  code: number | null;
  output: string;
  timedOut: boolean;
  durationMs: number;
}

/**
 * The end of what a command printed, up to `chars`, without blank lines or the spaces some tools
 * pad each line with (a linter's table filled a report's whole tail with them).
 */
export function tailOf(output: string, chars: number): string {
  const lines = output.split("\n").map((l) => l.trimEnd()).filter((l) => l.trim() !== "");
  return lines.join("\n").slice(-chars);
}

/**
 * Runs `script` in `dir` inside the sandbox with a time limit and collects what it printed. A
 * command that could not start (no bubblewrap, no such folder) has a null code and the reason as
 * its output; one killed at its time limit says so in its output.
 */
export function runSandboxed(
  dir: string,
  script: string,
  mode: SandboxMode,
  timeoutMs: number,
): Promise<SandboxRun> {
  // A replay answers from the recording: no repository code runs.
  return fed("process", `${stablePath(dir)} $ ${script}`, () => run(dir, script, mode, timeoutMs));
}

async function run(
  dir: string,
  script: string,
  mode: SandboxMode,
  timeoutMs: number,
): Promise<SandboxRun> {
  const limit = AbortSignal.timeout(timeoutMs);
  const t0 = performance.now();
  let code: number | null = null;
  let output = "";
  try {
    const r = await (await sandboxedCommand(dir, script, mode, limit)).output();
    const dec = new TextDecoder();
    code = r.code;
    output = dec.decode(r.stdout) + dec.decode(r.stderr);
  } catch (err) {
    output = (err as Error).message;
  }
  // Killed at its time limit, however the kill was reported.
  const timedOut = limit.aborted;
  if (timedOut) output += `\n(stopped after ${timeoutMs} ms, with everything it started)`;
  return { code, output, timedOut, durationMs: Math.round(performance.now() - t0) };
}
