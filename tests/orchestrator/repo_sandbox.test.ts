import assert from "node:assert/strict";
import { join } from "node:path";
import { runTests } from "../../actors/agents/kit/run_tests.ts";
import { runSandboxed } from "../../actors/agents/kit/repo_sandbox.ts";
import type { Detection } from "../../actors/tasks/repo_facts.ts";

/**
 * A repository whose "tests" try what untrusted code might: read a file of the user's, write
 * outside their copy, and reach a server on this machine. Each try prints what happened.
 */
async function hostileRepo(tmp: string, secret: string, outside: string, port: number) {
  const repo = join(tmp, "copy");
  await Deno.mkdir(repo);
  await Deno.writeTextFile(
    join(repo, "probe.sh"),
    [
      `if cat '${secret}' 2>/dev/null; then echo "READ the secret"; else echo "read refused"; fi`,
      `if echo leaked > '${outside}' 2>/dev/null; then echo "wrote ${outside}"; else echo "write refused"; fi`,
      `node -e "require('net').connect(${port}, '127.0.0.1')` +
      `.on('connect', () => { console.log('CONNECTED'); process.exit(0); })` +
      `.on('error', (e) => { console.log('socket refused: ' + e.code); process.exit(0); })"`,
      "echo inside > written-inside.txt",
    ].join("\n"),
  );
  return repo;
}

const detection: Detection = {
  projects: [{ type: "node", dir: ".", manifest: "package.json", test: "sh probe.sh" }],
  languages: {},
  existingCi: [],
  hasDocker: false,
};

Deno.test("repository code runs inside bubblewrap: reading the user's files and opening a socket are refused, a write outside its copy never reaches the machine, and the run reports each", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "troupe-sandbox-" });
  let connections = 0;
  const server = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepting = (async () => {
    for await (const conn of server) {
      connections++;
      conn.close();
    }
  })().catch(() => {});
  try {
    const secret = join(tmp, "secret.txt");
    await Deno.writeTextFile(secret, "the user's key");
    const outside = join(tmp, "outside.txt");
    const port = (server.addr as Deno.NetAddr).port;
    const repo = await hostileRepo(tmp, secret, outside, port);

    const [sandboxed] = await runTests(repo, detection, 30_000);
    assert.equal(sandboxed.code, 0, sandboxed.tail);
    // It is not a test runner: it ran, but no test, so it did not pass.
    assert.equal(sandboxed.verdict, "ran no test");
    assert.match(sandboxed.tail, /read refused/);
    assert.match(sandboxed.tail, /socket refused: ECONNREFUSED/);
    assert.doesNotMatch(sandboxed.tail, /the user's key|READ|CONNECTED/);
    // The write may succeed inside the sandbox's private /tmp; it never reaches the machine.
    await assert.rejects(Deno.stat(outside), "nothing was written outside the copy");
    assert.equal(connections, 0);
    // Its own copy is writable: that is where it works.
    assert.equal(await Deno.readTextFile(join(repo, "written-inside.txt")), "inside\n");

    // The same code without the sandbox (--unsandboxed) reaches all three: the check above bites.
    const [open] = await runTests(repo, detection, 30_000, { unsandboxed: true });
    assert.match(open.tail, /READ the secret/);
    assert.equal(await Deno.readTextFile(outside), "leaked\n");
    assert.match(open.tail, /CONNECTED/);
  } finally {
    server.close();
    await accepting;
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("repository code that outlives its time limit is killed with everything it started", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "troupe-sandbox-" });
  try {
    const repo = join(tmp, "copy");
    await Deno.mkdir(repo);
    // A child that would outlive its parent, writing a mark once a second.
    await Deno.writeTextFile(
      join(repo, "probe.sh"),
      "(while true; do date +%s >> marks; sleep 1; done) &\nsleep 600\n",
    );
    const [r] = await runTests(repo, detection, 1500);
    assert.equal(r.passed, false);
    assert.equal(r.timedOut, true);
    const marks = async () => (await Deno.readTextFile(join(repo, "marks")).catch(() => "")).length;
    const after = await marks();
    await new Promise((res) => setTimeout(res, 2500));
    assert.equal(await marks(), after, "the background child is gone too");
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("a JDK runs inside the sandbox: javac compiles and java runs (its security settings are mounted)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "troupe-java-" });
  try {
    await Deno.writeTextFile(
      join(dir, "Hello.java"),
      'public class Hello { public static void main(String[] a) { System.out.println("hello " + java.security.Security.getProviders().length); } }\n',
    );
    const r = await runSandboxed(dir, "javac Hello.java && java Hello", {}, 120_000);
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /^hello \d+/m);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("with the network allowed, the user's proxy and CA settings reach the sandbox, and the CA file they name is readable there", async () => {
  const dir = await Deno.makeTempDir({ prefix: "troupe-proxy-" });
  const ca = join(dir, "..", `troupe-ca-${crypto.randomUUID()}.pem`);
  await Deno.writeTextFile(ca, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
  Deno.env.set("HTTPS_PROXY", "http://127.0.0.1:3128");
  Deno.env.set("NODE_EXTRA_CA_CERTS", ca);
  try {
    const script = 'echo "proxy=$HTTPS_PROXY"; head -1 "$NODE_EXTRA_CA_CERTS"';
    const open = await runSandboxed(dir, script, { network: true }, 30_000);
    assert.equal(open.code, 0, open.output);
    assert.match(open.output, /proxy=http:\/\/127\.0\.0\.1:3128\n-----BEGIN CERTIFICATE-----/);
    // Without the network nothing of it is passed in.
    const closed = await runSandboxed(dir, 'echo "proxy=$HTTPS_PROXY"', {}, 30_000);
    assert.match(closed.output, /^proxy=$/m);
  } finally {
    Deno.env.delete("HTTPS_PROXY");
    Deno.env.delete("NODE_EXTRA_CA_CERTS");
    await Deno.remove(ca);
    await Deno.remove(dir, { recursive: true });
  }
});
