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
