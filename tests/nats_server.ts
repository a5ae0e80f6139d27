import { join } from "node:path";
import { cli, cliArgs } from "./cli_helpers.ts";

/**
 * A real `nats-server` with JetStream on a free 127.0.0.1 port, its store in a temporary folder;
 * stopped and removed when disposed. The suite's launcher installs it from the system's packages
 * when it is missing.
 */
export interface NatsServer extends AsyncDisposable {
  url: string;
  /** Kills the server (SIGKILL), as a crash would. */
  kill(): void;
}

export const NATS_SERVER = "/usr/sbin/nats-server";

export async function natsServer(): Promise<NatsServer> {
  const store = await Deno.makeTempDir({ prefix: "troupe-nats-" });
  const log = `${store}/nats.log`;
  const child = new Deno.Command(NATS_SERVER, {
    args: ["-js", "-a", "127.0.0.1", "-p", "-1", "-sd", store, "-l", log],
    stdout: "null",
    stderr: "null",
  }).spawn();
  let port: string | undefined;
  // The port is chosen by the server and written to its log once it listens.
  for (let i = 0; i < 300 && !port; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const text = await Deno.readTextFile(log).catch(() => "");
    port = text.match(/Listening for client connections on 127\.0\.0\.1:(\d+)/)?.[1];
    if (port && !/Server is ready/.test(text)) port = undefined;
  }
  if (!port) {
    child.kill("SIGKILL");
    await child.status;
    throw new Error(`nats-server did not start; its log: ${await Deno.readTextFile(log)}`);
  }
  let killed = false;
  return {
    url: `nats://127.0.0.1:${port}`,
    kill() {
      if (killed) return;
      killed = true;
      child.kill("SIGKILL");
    },
    async [Symbol.asyncDispose]() {
      if (!killed) child.kill("SIGTERM");
      await child.status;
      await Deno.remove(store, { recursive: true });
    },
  };
}

/** Waits for `check` to hold, looking every 20 ms, up to `ms`; fails naming `what` otherwise. */
export async function until(check: () => boolean, what: string, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * `deno task node` in a process of its own, with the permissions users' commands get, its
 * ledger in `dir`; resolves once it has joined, with what it said then.
 */
export async function startNode(
  url: string,
  name: string,
  dir: string,
  offer: "demo" | "repo-ops",
): Promise<{ child: Deno.ChildProcess; joined: { node: string; actors: string[] } }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: cliArgs([
      "node",
      "--cluster",
      url,
      "--name",
      name,
      "--offer",
      offer,
      "--ledger",
      join(dir, `${name}.duckdb`),
      "--json",
    ]),
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await lines.read();
    if (done) {
      const err = await new Response(child.stderr).text();
      throw new Error(`node ${name} ended before joining: ${err}`);
    }
    text += value;
  }
  void (async () => {
    while (!(await lines.read()).done) { /* drained */ }
  })();
  void child.stderr.cancel();
  return { child, joined: JSON.parse(text.split("\n")[0]) };
}

/**
 * `deno task ledger project` of the cluster at `url` into `into`: its exit code, and each node's
 * chain as it found it (`problem` when broken).
 */
export async function projectLedger(
  url: string,
  into: string,
): Promise<{ code: number; output: string; nodes: { node: string; problem?: string }[] }> {
  const r = await cli(["ledger", "project", "--cluster", url, "--into", into, "--json"]);
  const output = r.stdout + r.stderr;
  return { code: r.code, output, nodes: r.code <= 1 ? JSON.parse(r.stdout).nodes : [] };
}
