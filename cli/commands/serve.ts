import { ControlServer } from "../../control/mod.ts";
import { DEFAULT_APPROVALS_DIR, DEFAULT_KEY_DIR } from "../../policies/mod.ts";
import { defineCommand, JSON_FLAG, LEDGER_FLAG } from "../command.ts";
import { LlmConfig } from "../../actors/llm/llm_config.ts";
import { loadPolicyData } from "../../policies/load_policy.ts";
import { Role } from "../../control/tokens.ts";

export const serve = defineCommand({
  name: "serve",
  summary: "the HTTP control endpoint: runs, live events, SQL and approvals (--help)",
  usage: `Usage: deno task serve [--port 8787] [--host 127.0.0.1] [--ledger PATH] [--tokens FILE]
                       [--keys DIR] [--approvals DIR] [--plugins DIR] [--watch REPO]
                       [--cluster nats://HOST:PORT[,…]]
                       [--repos DIR]... [--runs-out DIR] [--autonomy ROLE=N]...
                       [--policy NAME=FILE]... [--pack NAME=FILE]... [--llm-config F]
                       [--allow-install-network] [--allowed-host HOST:PORT]... [--json]

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
  --cluster URLS    join the cluster at these NATS servers: runs spread their tasks over
                    its nodes (deno task node), GET /nodes and the page list them
  --watch REPO      keep the team on REPO: when its files change (2 s quiet after the
                    last change) an assessment run starts; one at a time

What runs submitted over HTTP may do is this server's to decide, never the request's:
  --repos DIR       runs touch only repositories under DIR (repeat for more roots;
                    default: the current folder)
  --runs-out DIR    runs write their results below DIR, one folder per run
                    (default .troupe/runs); a request cannot choose another
  --autonomy ROLE=N the highest autonomy level ROLE may ask for (default operator=2,
                    admin=3: above 2 a run writes and runs code without approval)
  --policy NAME=FILE a policy set requests may name (repeat); no request names a path
  --pack NAME=FILE  a compliance pack requests may name, beside soc2, gdpr, hipaa
  --llm-config F    the models runs may plan with (requests choose providers by name)
  --allow-install-network  let --verify-ci install steps reach the network
  --allowed-host H  a Host (name:port) the server also answers to, e.g. behind a proxy;
                    a loopback server refuses any other (DNS rebinding)
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
    cluster: { type: "string" },
    repos: { type: "string", multiple: true },
    "runs-out": { type: "string" },
    autonomy: { type: "string", multiple: true },
    policy: { type: "string", multiple: true },
    pack: { type: "string", multiple: true },
    "llm-config": { type: "string" },
    "allow-install-network": { type: "boolean", default: false },
    "allowed-host": { type: "string", multiple: true },
    json: JSON_FLAG,
  },
  async run(flags, positionals, fail) {
    const port = Number(flags.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      return fail(`--port must be 0 to 65535, got "${flags.port}"`);
    }
    if (positionals.length > 0) return fail(`unexpected argument "${positionals[0]}"`);
    const named = (flag: string, values: string[] = []) => {
      const out: Record<string, string> = {};
      for (const v of values) {
        const m = v.match(/^([A-Za-z0-9][A-Za-z0-9._-]{0,63})=(.+)$/);
        if (!m) throw new Error(`--${flag} takes NAME=VALUE, got "${v}"`);
        out[m[1]] = m[2];
      }
      return out;
    };
    let policies, compliance, ceilings;
    try {
      policies = named("policy", flags.policy);
      compliance = named("pack", flags.pack);
      ceilings = named("autonomy", flags.autonomy);
    } catch (err) {
      return fail((err as Error).message);
    }
    const autonomy: Record<string, number> = {};
    for (const [role, level] of Object.entries(ceilings)) {
      const n = Number(level);
      if (!Role.safeParse(role).success || !Number.isInteger(n) || n < 1 || n > 5) {
        return fail(`--autonomy takes ROLE=N with a role (${Role.options.join(", ")}) and 1-5`);
      }
      autonomy[role] = n;
    }
    const llm = flags["llm-config"]
      ? await loadPolicyData(flags["llm-config"], LlmConfig, "", "LLM configuration")
      : undefined;
    const server = await ControlServer.start({
      port,
      host: flags.host,
      ledger: flags.ledger,
      ...(flags.tokens ? { tokens: flags.tokens } : {}),
      keys: flags.keys,
      approvals: flags.approvals,
      plugins: flags.plugins,
      ...(flags.watch ? { watch: { repo: flags.watch } } : {}),
      ...(flags.cluster
        ? { cluster: flags.cluster.split(",").map((u) => u.trim()).filter(Boolean) }
        : {}),
      ...(flags["allowed-host"] ? { allowedHosts: flags["allowed-host"] } : {}),
      runs: {
        ...(flags.repos ? { repos: flags.repos } : {}),
        ...(flags["runs-out"] ? { outRoot: flags["runs-out"] } : {}),
        autonomy,
        policies,
        compliance,
        ...(llm ? { llm } : {}),
        allowInstallNetwork: flags["allow-install-network"],
      },
    });
    const info = {
      url: server.url,
      ledger: flags.ledger,
      tokens: server.authenticated,
      openapi: `${server.url}/openapi.json`,
      // The server's own token (no --tokens): for the user who started it, as Jupyter prints it.
      ...(server.token
        ? {
          token: server.token,
          tokenFile: server.tokenFile ?? null,
          page: `${server.url}/page/index.html#token=${server.token}`,
        }
        : {}),
    };
    if (flags.json) console.log(JSON.stringify(info));
    else {
      console.log(`troupe serving ${flags.ledger} at ${server.url} (API: ${info.openapi})`);
      if (flags.watch) console.log(`watching ${flags.watch}: changes start an assessment run`);
      if (server.token) {
        console.log(
          "no --tokens: listening on loopback only; this token (admin) was made for this run of " +
            `the server${server.tokenFile ? ` and is in ${server.tokenFile}` : ""}:`,
        );
        console.log(`  open ${info.page}`);
        console.log(`  or send Authorization: Bearer ${server.token}`);
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
