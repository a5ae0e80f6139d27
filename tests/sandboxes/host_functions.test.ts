import assert from "node:assert/strict";
import { Ledger } from "../../ledger/mod.ts";
import { PolicyEngine } from "../../policies/mod.ts";
import {
  createPluginHost,
  grantPolicy,
  parseManifest,
  Sandbox,
  type SandboxError,
} from "../../sandboxes/mod.ts";
import { HOSTILE_IMPORTS, hostileWasm } from "../plugin_helpers.ts";
import { tempLedgerPath } from "../ledger_helpers.ts";

const manifest = (limits = {}) =>
  parseManifest({ name: "hostile", wasm: "h.wasm", hostFunctions: [...HOSTILE_IMPORTS], limits });

async function sandboxFor(ledger: Ledger, grants: string[], limits = {}, actor = "plugin-a") {
  const m = manifest(limits);
  const host = await createPluginHost({
    actor,
    limits: m.limits,
    policy: new PolicyEngine([grantPolicy(actor, grants)]),
    ledger,
  });
  return await Sandbox.create(m, { wasm: await hostileWasm(), host });
}

Deno.test("a host call without a grant returns an error to the plugin and is recorded", async () => {
  const ledger = await Ledger.open(":memory:");
  const sb = await sandboxFor(ledger, ["log"]);
  try {
    await assert.rejects(sb.call("remember", "x"), (e: SandboxError) => {
      assert.equal(e.kind, "plugin_error"); // the plugin saw the refusal and failed itself
      assert.match(e.message, /kv_set\(kv:last\) denied: no rule allows/);
      return true;
    });
    // The plugin keeps running after a refusal.
    assert.equal((await sb.call("shout", "still here")).text(), "STILL HERE");
    const denied = await ledger.select(
      "SELECT actor, payload->>'fn' AS fn, payload->>'resource' AS resource FROM events WHERE type = 'plugin_host_denied'",
    );
    assert.deepEqual(denied, [{ actor: "plugin-a", fn: "kv_set", resource: "kv:last" }]);
  } finally {
    sb.close();
    await ledger.close();
  }
});

Deno.test("plugin key-value state is kept in the ledger and survives a restart of everything", async () => {
  const path = await tempLedgerPath();
  try {
    let ledger = await Ledger.open(path);
    let sb = await sandboxFor(ledger, ["kv_get", "kv_set"]);
    await sb.call("remember", "first");
    await sb.call("remember", "second");
    assert.equal((await sb.call("recall")).json<string>(), "second");
    sb.close();
    await ledger.close();

    ledger = await Ledger.open(path);
    sb = await sandboxFor(ledger, ["kv_get", "kv_set"]);
    assert.equal((await sb.call("recall")).json<string>(), "second");
    // Another plugin has its own state.
    const other = await sandboxFor(ledger, ["kv_get"], {}, "plugin-b");
    assert.equal((await other.call("recall")).text(), "null");
    other.close();
    sb.close();
    await ledger.close();
  } finally {
    await Deno.remove(path.replace(/\/ledger\.duckdb$/, ""), { recursive: true });
  }
});

Deno.test("http_fetch reaches only hosts both allowed by the limits and granted by policy", async () => {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (req) => new Response(`served ${new URL(req.url).pathname}`),
  );
  const url = `http://127.0.0.1:${server.addr.port}/status`;
  const ledger = await Ledger.open(":memory:");
  const allowed = await sandboxFor(ledger, ["http_fetch:127.0.0.1"], {
    allowedHosts: ["127.0.0.1"],
  });
  const notInLimits = await sandboxFor(ledger, ["http_fetch"], {});
  const notGranted = await sandboxFor(ledger, ["log"], { allowedHosts: ["127.0.0.1"] });
  try {
    assert.equal((await allowed.call("fetch", url)).text(), "served /status");
    await assert.rejects(notInLimits.call("fetch", url), /not in limits\.allowedHosts/);
    await assert.rejects(notGranted.call("fetch", url), /http_fetch\(127\.0\.0\.1\) denied/);
    await assert.rejects(
      allowed.call("fetch", `http://localhost:${server.addr.port}/`),
      /http_fetch\(localhost\) denied/,
    );
  } finally {
    for (const sb of [allowed, notInLimits, notGranted]) sb.close();
    await ledger.close();
    await server.shutdown();
  }
});

Deno.test("a plugin's log lines reach the host, tagged with their level", async () => {
  const ledger = await Ledger.open(":memory:");
  const lines: string[] = [];
  const m = manifest();
  const host = await createPluginHost({
    actor: "p",
    limits: m.limits,
    policy: new PolicyEngine([grantPolicy("p", ["log"])]),
    ledger,
    log: (level, text) => lines.push(`${level} ${text}`),
  });
  const sb = await Sandbox.create(m, { wasm: await hostileWasm(), host });
  try {
    await sb.call("shout", "hey");
    assert.deepEqual(lines, ["warn shouting hey"]);
  } finally {
    sb.close();
    await ledger.close();
  }
});

Deno.test("a grant naming no host function is refused with the list of valid ones", () => {
  assert.throws(() => grantPolicy("p", ["launch_missiles"]), /use one of log, emit, ask/);
});
