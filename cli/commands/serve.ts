import { ControlServer } from "../../control/mod.ts";
import { DEFAULT_APPROVALS_DIR, DEFAULT_KEY_DIR } from "../../policies/mod.ts";
import { defineCommand, JSON_FLAG, LEDGER_FLAG } from "../command.ts";

export const serve = defineCommand({
  name: "serve",
  summary: "the HTTP control endpoint: runs, live events, SQL and approvals (--help)",
  usage: `Usage: deno task serve [--port 8787] [--host 127.0.0.1] [--ledger PATH] [--tokens FILE]
                       [--keys DIR] [--approvals DIR] [--plugins DIR] [--watch REPO]
                       [--json]

Serves troupe over HTTP until Ctrl-C: submit, follow, cancel and resume runs (the same runs as
deno task run), read the ledger's events live (Server-Sent Events), query it with SQL, and cast
signed approval votes. The routes are described at /openapi.json and listed at /docs.

While it runs, the server is the ledger's one writer: deno task run on the same ledger sends its
run to the server with --server URL, or says which server has it.

Options:
  --port N          the port (default 8787; 0 picks a free one)
  --host ADDR       the address (default 127.0.0.1); any other needs --tokens
  --ledger PATH     the ledger (default .troupe/ledger.duckdb)
  --tokens FILE     bearer tokens with roles (viewer, operator, approver, admin):
                    {"tokens": [{"name": "ci", "role": "admin", "token": "…"}]}
                    or "sha256": "<hex>" instead of "token"
  --keys DIR        the key folder whose trust.json says who may sign (default ${DEFAULT_KEY_DIR})
  --approvals DIR   the approvals inbox (default ${DEFAULT_APPROVALS_DIR})
  --plugins DIR     where uploaded plugins are kept (default .troupe/plugins)
  --watch REPO      keep the team on REPO: when its files change (2 s quiet after the
                    last change) an assessment run starts; one at a time
  --json            print the address as JSON when listening
  -h, --help        show this help`,
  flags: {
    port: { type: "string", default: "8787" },
    host: { type: "string", default: "127.0.0.1" },
    ledger: LEDGER_FLAG,
    tokens: { type: "string" },
    keys: { type: "string", default: DEFAULT_KEY_DIR },
    approvals: { type: "string", default: DEFAULT_APPROVALS_DIR },
    plugins: { type: "string", default: ".troupe/plugins" },
    watch: { type: "string" },
    json: JSON_FLAG,
  },
  async run(flags, positionals, fail) {
    const port = Number(flags.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      return fail(`--port must be 0 to 65535, got "${flags.port}"`);
    }
    if (positionals.length > 0) return fail(`unexpected argument "${positionals[0]}"`);
    const server = await ControlServer.start({
      port,
      host: flags.host,
      ledger: flags.ledger,
      ...(flags.tokens ? { tokens: flags.tokens } : {}),
      keys: flags.keys,
      approvals: flags.approvals,
      plugins: flags.plugins,
      ...(flags.watch ? { watch: { repo: flags.watch } } : {}),
    });
    const info = {
      url: server.url,
      ledger: flags.ledger,
      tokens: server.authenticated,
      openapi: `${server.url}/openapi.json`,
    };
    if (flags.json) console.log(JSON.stringify(info));
    else {
      console.log(`troupe serving ${flags.ledger} at ${server.url} (API: ${info.openapi})`);
      if (flags.watch) console.log(`watching ${flags.watch}: changes start an assessment run`);
      if (!server.authenticated) {
        console.log("no --tokens: listening on loopback only, and every caller is admin");
      }
    }
    const stopped = Promise.withResolvers<void>();
    const stop = () => stopped.resolve();
    Deno.addSignalListener("SIGINT", stop);
    Deno.addSignalListener("SIGTERM", stop);
    await stopped.promise;
    Deno.removeSignalListener("SIGINT", stop);
    Deno.removeSignalListener("SIGTERM", stop);
    console.error("stopping: cancelling runs still going (they can be resumed)");
    await server.close();
    return 0;
  },
});
