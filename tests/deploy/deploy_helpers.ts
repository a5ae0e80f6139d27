import { join } from "node:path";
import { cli, type CliResult, writeFiles } from "../cli_helpers.ts";
export { freePort } from "../../actors/deploy/release_process.ts";

/**
 * A web service a test deploys: a Node package whose `start` script serves its version on `/`
 * and its health on `/health` (`built`: a build script writes what `/` answers). `health` is the
 * status `/health` answers; `crashAfterMs` makes the process exit that long after it starts
 * (healthy until then); `throws`: it throws that error as it starts, before it listens.
 */
export async function writeService(
  dir: string,
  o: { version: string; health?: number; crashAfterMs?: number; built?: boolean; throws?: string },
): Promise<string> {
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  // `built`: what `/` answers is written by the package's build script, in the release's folder.
  const build = o.built
    ? { build: `node -e "require('fs').writeFileSync('built.txt', 'built-${o.version}')"` }
    : {};
  await writeFiles(dir, {
    "package.json": JSON.stringify({
      name: "fixture-service",
      scripts: { start: "node server.js", ...build },
    }),
    "server.js": `const http = require("node:http");
${o.throws ? `throw new Error(${JSON.stringify(o.throws)});` : ""}
http.createServer((req, res) => {
  if (req.url === "/health") { res.writeHead(${o.health ?? 200}); return res.end("health"); }
  res.writeHead(200, { "content-type": "text/plain" });
  res.end(${
      o.built ? 'require("fs").readFileSync("built.txt", "utf8")' : JSON.stringify(o.version)
    });
}).listen(Number(process.env.PORT), "127.0.0.1");
${o.crashAfterMs ? `setTimeout(() => process.exit(3), ${o.crashAfterMs});` : ""}
`,
  });
  return dir;
}

/** A deploy environment of a test: its root, ledger, proxy port and a way to run the command. */
export class DeployBench {
  constructor(readonly dir: string, readonly port: number) {}
  get root(): string {
    return join(this.dir, "root");
  }
  get ledger(): string {
    return join(this.dir, "ledger.duckdb");
  }
  args(more: string[]): string[] {
    return ["deploy", "--root", this.root, "--ledger", this.ledger, ...more];
  }
  deploy(more: string[]): Promise<CliResult> {
    return cli(this.args(more));
  }
  /**
   * The environment's first deploy (its proxy on `port`): version v1 of the service in `app`,
   * with `more` options; fails the test unless it goes live. Returns its JSON outcome.
   */
  async first(app: string, more: string[]): Promise<{ status: string; releaseId: string }> {
    await writeService(app, { version: "v1" });
    const r = await this.deploy(["--repo", app, "--port", String(this.port), ...more, "--json"]);
    if (r.code !== 0) throw new Error(`the first deploy failed: ${r.stderr}`);
    return JSON.parse(r.stdout);
  }
  /** What the proxy serves now (the body of `/`). */
  async served(): Promise<string> {
    const res = await fetch(`http://127.0.0.1:${this.port}/`);
    return await res.text();
  }
}

/**
 * Requests `url` back to back until stopped, counting answers and failures (anything but a 200,
 * or no answer): the client a deploy must not fail.
 */
export function steadyClient(url: string): { stop(): Promise<{ ok: number; failed: string[] }> } {
  let running = true;
  const failed: string[] = [];
  let ok = 0;
  const loop = (async () => {
    while (running) {
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
        await res.body?.cancel();
        if (res.status === 200) ok++;
        else failed.push(`status ${res.status}`);
      } catch (err) {
        failed.push((err as Error).message);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { ok, failed };
    },
  };
}

/** True when a process with `TROUPE_RELEASE=id` in its environment runs (read by grep: Deno
 * reads other processes' /proc files only with --allow-all). */
export async function releaseRuns(id: string): Promise<boolean> {
  const out = await new Deno.Command("sh", {
    args: ["-c", 'grep -lsxz "TROUPE_RELEASE=$1" /proc/[0-9]*/environ', "sh", id],
    stdout: "piped",
    stderr: "null",
  }).output();
  return new TextDecoder().decode(out.stdout).trim() !== "";
}
