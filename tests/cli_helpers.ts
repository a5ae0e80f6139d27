const ROOT = new URL("../", import.meta.url);

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `cli/main.ts` in a real subprocess, as `deno task` does. */
export async function cli(
  args: string[],
  options: { stdin?: string; cwd?: string } = {},
): Promise<CliResult> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", new URL("cli/main.ts", ROOT).pathname, ...args],
    cwd: options.cwd ?? ROOT.pathname,
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
