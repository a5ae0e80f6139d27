import { join } from "node:path";
import { realClock, sleep, TroupeError } from "../../runtime/mod.ts";
import { readProc } from "./release_process.ts";

/** Where each release is reached: the live one, and the one it falls back on while watched. */
export interface Upstream {
  primary: number;
  /** Served while `primary` refuses connections or fails (502-504): the release before it. */
  backup?: number;
}

const NGINX = "/usr/sbin/nginx";

/**
 * The reverse proxy in front of the releases: nginx from the system's packages, with a config of
 * its own under the deploy root. A switch rewrites its upstream and reloads it, which nginx does
 * gracefully (requests in flight finish on the old workers), so no request is dropped. The
 * upstream that answered is in each response's `X-Troupe-Upstream` header.
 */
export class NginxProxy {
  readonly conf: string;
  readonly upstreamConf: string;
  readonly pidFile: string;

  constructor(readonly dir: string, readonly port: number, readonly host = "127.0.0.1") {
    this.conf = join(dir, "nginx.conf");
    this.upstreamConf = join(dir, "upstream.conf");
    this.pidFile = join(dir, "nginx.pid");
  }

  /** Points the proxy at `upstream` and makes it so: started if it is not running, else reloaded. */
  async route(upstream: Upstream): Promise<void> {
    await Deno.mkdir(join(this.dir, "temp"), { recursive: true });
    await Deno.writeTextFile(this.conf, this.#config());
    const servers = [
      `  server 127.0.0.1:${upstream.primary} max_fails=0;`,
      ...(upstream.backup ? [`  server 127.0.0.1:${upstream.backup} backup max_fails=0;`] : []),
    ];
    await Deno.writeTextFile(
      this.upstreamConf,
      `upstream troupe_release {\n${servers.join("\n")}\n}\n`,
    );
    await this.#nginx(["-t"], "check its configuration");
    if (await this.running()) await this.#nginx(["-s", "reload"], "reload");
    else await this.#nginx([], "start");
  }

  /** The master process's pid when nginx is running from this config. */
  async running(): Promise<number | undefined> {
    let pid;
    try {
      pid = Number((await Deno.readTextFile(this.pidFile)).trim());
    } catch {
      return undefined;
    }
    const cmdline = await readProc(pid, "cmdline");
    return cmdline?.includes("nginx") && cmdline.includes(this.conf) ? pid : undefined;
  }

  /**
   * Waits until responses come from `port` (after a reload, the new workers take a moment),
   * at most `tries` requests. True when one did.
   */
  async serves(port: number, tries = 50): Promise<boolean> {
    for (let i = 0; i < tries; i++) {
      try {
        const res = await fetch(`http://${this.host}:${this.port}/`, {
          signal: AbortSignal.timeout(2000),
        });
        await res.body?.cancel();
        if (res.headers.get("x-troupe-upstream") === `127.0.0.1:${port}`) return true;
      } catch { /* not up yet */ }
      await sleep(realClock, 100);
    }
    return false;
  }

  /** Stops nginx (gracefully: requests in flight finish). */
  async stop(): Promise<void> {
    if (await this.running()) await this.#nginx(["-s", "quit"], "stop");
  }

  async #nginx(args: string[], what: string): Promise<void> {
    let out;
    try {
      out = await new Deno.Command(NGINX, {
        args: ["-c", this.conf, "-p", this.dir, ...args],
        stdout: "piped",
        stderr: "piped",
      }).output();
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) {
        throw new TroupeError(
          "invalid_spec",
          `deploying needs nginx (${NGINX}), the reverse proxy releases are switched behind; ` +
            `install it (apt-get install nginx)`,
        );
      }
      throw err;
    }
    if (!out.success) {
      const stderr = new TextDecoder().decode(out.stderr).trim();
      throw new TroupeError(
        "invalid_spec",
        `nginx could not ${what} (${this.conf}): ${stderr.split("\n").slice(-3).join(" ")}`,
      );
    }
  }

  #config(): string {
    const temp = (name: string) => `${name}_temp_path ${join(this.dir, "temp", name)};`;
    return `# Written by troupe deploy; the upstream is in upstream.conf, rewritten at each switch.
worker_processes 1;
pid ${this.pidFile};
error_log ${join(this.dir, "error.log")} warn;
events { worker_connections 1024; }
http {
  access_log off;
  ${temp("client_body")}
  ${temp("proxy")}
  ${temp("fastcgi")}
  ${temp("uwsgi")}
  ${temp("scgi")}
  include ${this.upstreamConf};
  server {
    listen ${this.host}:${this.port};
    location / {
      proxy_pass http://troupe_release;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $remote_addr;
      # A release that refuses or fails a request: the request goes to the backup release.
      proxy_next_upstream error timeout http_502 http_503 http_504;
      proxy_connect_timeout 2s;
      add_header X-Troupe-Upstream $upstream_addr always;
    }
  }
}
`;
  }
}
