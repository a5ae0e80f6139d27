/**
 * `deno task test` and `deno task bench`: sets up what they need from the system's packages
 * when it is missing (Chromium for the browser test, bubblewrap for the repository and plugin
 * sandboxes, Go, coverage.py and pytest for the tester, Flask for deploy, a JDK, python3-venv, make, Elixir, PHP, Composer and Bundler for the CI verifier),
 * says clearly what it could not install, then runs the suite or the benchmarks with the
 * permissions of deno.json's `troupe` task (the one list), the network narrowed to 127.0.0.1. Its
 * exit code is theirs.
 */
import { parseArgs } from "node:util";
import { taskPermissions } from "./cli_helpers.ts";

const ROOT = new URL("../", import.meta.url);

/** What the tests use from the system, by the file that shows it is there. */
const SYSTEM_PACKAGES: { file: string; debian: string; why: string }[] = [
  { file: "/usr/bin/chromium", debian: "chromium", why: "the control center's browser test" },
  { file: "/usr/bin/bwrap", debian: "bubblewrap", why: "the repository and plugin sandboxes" },
  { file: "/usr/sbin/nats-server", debian: "nats-server", why: "the cluster tests (JetStream)" },
  { file: "/usr/sbin/nginx", debian: "nginx", why: "deploy's reverse proxy (blue-green)" },
  { file: "/usr/bin/javac", debian: "default-jdk-headless", why: "Java in the repository sandbox" },
  {
    file: "/usr/share/doc/python3-venv",
    debian: "python3-venv",
    why: "--verify-ci of Python projects",
  },
  { file: "/usr/bin/go", debian: "golang-go", why: "Go projects' tests and their coverage" },
  {
    file: "/usr/share/doc/python3-coverage",
    debian: "python3-coverage",
    why: "coverage.py in the tester's runs",
  },
  {
    file: "/usr/share/doc/python3-pytest",
    debian: "python3-pytest",
    why: "Python projects' tests",
  },
  {
    file: "/usr/share/doc/python3-flask",
    debian: "python3-flask",
    why: "deploying a Flask app",
  },
  { file: "/usr/bin/make", debian: "make", why: "--verify-ci of a Makefile's test target" },
  { file: "/usr/bin/mix", debian: "elixir", why: "--verify-ci of Elixir projects" },
  { file: "/usr/bin/php", debian: "php-cli", why: "--verify-ci of PHP projects" },
  { file: "/usr/share/doc/php-mbstring", debian: "php-mbstring", why: "Composer" },
  { file: "/usr/bin/composer", debian: "composer", why: "--verify-ci of PHP projects" },
  { file: "/usr/bin/bundle", debian: "ruby-bundler", why: "--verify-ci of Ruby projects" },
];

/** Where the set-up installs TypeDoc for the tests, relative to the repository. */
export const TYPEDOC_TOOLS = ".troupe/test-tools/typedoc";

/** The `--allow-*` flags of the `troupe` task, with the network narrowed to 127.0.0.1. */
export function suitePermissions(): string[] {
  return taskPermissions("troupe").map((f) => f === "--allow-net" ? "--allow-net=127.0.0.1" : f);
}

const exists = (file: string) => {
  try {
    Deno.statSync(file);
    return true;
  } catch {
    return false;
  }
};

async function succeeds(command: string, args: string[]): Promise<boolean> {
  try {
    const out = await new Deno.Command(command, { args, stdout: "null", stderr: "piped" })
      .output();
    if (!out.success) console.error(new TextDecoder().decode(out.stderr).trim().slice(-2000));
    return out.success;
  } catch {
    return false;
  }
}

/** Installs what is missing with apt-get as root (or passwordless sudo); says what it could not. */
async function setUp(): Promise<void> {
  const missing = SYSTEM_PACKAGES.filter((p) => !exists(p.file));
  if (missing.length === 0) return;
  const names = missing.map((p) => p.debian);
  const root = Deno.uid() === 0;
  const sudo = !root && exists("/usr/bin/sudo") && await succeeds("sudo", ["-n", "true"]);
  const apt = exists("/usr/bin/apt-get");
  if (apt && (root || sudo)) {
    console.error(`set-up: installing ${names.join(", ")} from Debian's packages…`);
    const run = (args: string[]) =>
      sudo ? succeeds("sudo", ["-n", ...args]) : succeeds(args[0], args.slice(1));
    const env = ["env", "DEBIAN_FRONTEND=noninteractive"];
    if (
      await run([...env, "apt-get", "update", "-qq"]) &&
      await run([...env, "apt-get", "install", "-y", "-qq", ...names])
    ) {
      console.error(`set-up: installed ${names.join(", ")}`);
      return;
    }
  }
  for (const p of missing.filter((p) => !exists(p.file))) {
    const how = !apt ? "this system has no apt-get" : "installing needs root or passwordless sudo";
    console.error(
      `set-up: could not install ${p.debian} (${how}); ${p.why} will fail. ` +
        `Install it (apt-get install ${p.debian}) and run the suite again.`,
    );
  }
}

if (import.meta.main) {
  const { positionals } = parseArgs({ args: Deno.args, allowPositionals: true, strict: false });
  const [what = "test", ...paths] = positionals;
  const given = Deno.args.slice(1);
  await setUp();
  // Every npm package deno.json names, into node_modules: the MCP tests start servers from there
  // with node, which only a module that imports them would otherwise bring.
  if (!await succeeds(Deno.execPath(), ["install", "--quiet"])) {
    console.error("set-up: deno install failed; the MCP servers' tests will fail");
  }
  // TypeDoc as a project installs it (npm's own layout), for the API documentation test to copy
  // into the project it makes: the sandbox it runs in has no network.
  const typedoc = new URL(TYPEDOC_TOOLS, ROOT).pathname;
  if (what === "test" && !exists(`${typedoc}/node_modules/typedoc/bin/typedoc`)) {
    const args = ["install", "--no-save", "--no-audit", "--no-fund", "--prefix", typedoc];
    if (!await succeeds("npm", [...args, "typedoc@0.28.20", "typescript@5.9.3"])) {
      console.error("set-up: npm could not install TypeDoc; its API documentation test says so");
    }
  }
  const args = what === "bench"
    ? ["run", ...suitePermissions(), new URL("bench/main.ts", ROOT).pathname, ...given]
    : ["test", ...suitePermissions(), ...given, ...(paths.length > 0 ? [] : ["tests/"])];
  const child = new Deno.Command(Deno.execPath(), { args, cwd: ROOT.pathname }).spawn();
  Deno.exit((await child.status).code);
}
