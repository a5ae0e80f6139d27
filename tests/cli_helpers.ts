import { dirname } from "node:path";
const ROOT = new URL("../", import.meta.url);
/** troupe's command line, which `deno task` runs. */
export const CLI_MAIN = new URL("cli/main.ts", ROOT).pathname;

/** The `--allow-*` flags of one of deno.json's tasks: what that command runs with. */
export function taskPermissions(task: string): string[] {
  const config = JSON.parse(Deno.readTextFileSync(new URL("deno.json", ROOT)));
  const command = config.tasks[task];
  return ((typeof command === "string" ? command : command.command) as string).split(/\s+/)
    .filter((f) => f.startsWith("--allow-"));
}

/** The permissions users' commands get: the `--allow-*` flags of deno.json's `troupe` task. */
export const USER_PERMISSIONS: string[] = taskPermissions("troupe");

/**
 * Deno's arguments for running the CLI with `args`, as `deno task` runs it: with the permissions
 * users get (or the `--allow-*` flags given). For tests that start it as a process of their own.
 */
export function cliArgs(args: string[], permissions: string[] = USER_PERMISSIONS): string[] {
  return ["run", ...permissions, "--quiet", CLI_MAIN, ...args];
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `cli/main.ts` in a real subprocess, as `deno task` does: with the permissions users get,
 * or with only the given `--allow-*` flags.
 */
export async function cli(
  args: string[],
  options: {
    stdin?: string;
    cwd?: string;
    permissions?: string[];
    /** Variables added to the command's environment. */
    env?: Record<string, string>;
  } = {},
): Promise<CliResult> {
  const child = new Deno.Command(Deno.execPath(), {
    args: cliArgs(args, options.permissions),
    cwd: options.cwd ?? ROOT.pathname,
    ...(options.env ? { env: options.env } : {}),
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.stdin));
    await writer.close();
  }
  const out = await child.output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

/** `deno task run` on `repo`, its results in `out` and its events in `ledger`, with `flags`. */
export function runOn(repo: string, out: string, ledger: string, ...flags: string[]) {
  return cli(["run", "--repo", repo, "--out", out, "--ledger", ledger, ...flags]);
}

/**
 * Starts a Deno script, reads its stdout until `progress` (the largest number captured by
 * `pattern` so far) reaches `target`, then kills it with SIGKILL. Returns that number.
 */
export async function runThenKill(
  script: URL,
  args: string[],
  pattern: RegExp,
  target: number,
): Promise<number> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", script.pathname, ...args],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  let progress = 0;
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  try {
    while (progress < target) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`${script.pathname} exited before reaching ${target}`);
      buffered += value;
      for (const m of buffered.matchAll(pattern)) progress = Math.max(progress, Number(m[1]));
      buffered = buffered.slice(buffered.lastIndexOf("\n") + 1);
    }
  } finally {
    child.kill("SIGKILL");
    await child.status;
    await reader.cancel().catch(() => {});
  }
  return progress;
}

/** A private copy of a fixture repository, so that runs never touch the fixtures themselves. */
export async function copyRepo(name: string, into: string): Promise<string> {
  const target = `${into}/${name}`;
  const from = new URL(`fixtures/repos/${name}`, import.meta.url).pathname;
  const copy = await new Deno.Command("cp", { args: ["-r", from, target] }).output();
  if (copy.code !== 0) {
    throw new Error(`could not copy ${from}: ${new TextDecoder().decode(copy.stderr)}`);
  }
  return target;
}

/** Writes `files` (path: text) below `dir`, making their folders: a repository a test made. */
export async function writeFiles(dir: string, files: Record<string, string>): Promise<void> {
  for (const [path, text] of Object.entries(files)) {
    await Deno.mkdir(dirname(`${dir}/${path}`), { recursive: true });
    await Deno.writeTextFile(`${dir}/${path}`, text);
  }
}

/**
 * Whether `command` runs and succeeds on this machine: a toolchain a test needs and a user's
 * machine may lack. Spawning a program that is not there throws at once, not in the promise.
 */
export async function runsHere(command: string, ...args: string[]): Promise<boolean> {
  try {
    const r = await new Deno.Command(command, { args, stdout: "null", stderr: "null" }).output();
    return r.success;
  } catch {
    return false;
  }
}
