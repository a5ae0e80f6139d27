import assert from "node:assert/strict";
import { join } from "node:path";
import { ControlServer } from "../../control/mod.ts";

const ADMIN = "fuzz-admin-token-0123456789";

interface Operation {
  path: string;
  method: string;
  hasBody: boolean;
  properties: Record<string, { type?: string }>;
}

/** Every operation the OpenAPI document describes, with its body's top-level properties. */
function operations(doc: {
  paths: Record<
    string,
    Record<
      string,
      {
        requestBody?: {
          content: Record<string, { schema: { properties?: Record<string, { type?: string }> } }>;
        };
      }
    >
  >;
}): Operation[] {
  return Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({
      path,
      method: method.toUpperCase(),
      hasBody: !!op.requestBody,
      properties: op.requestBody?.content["application/json"]?.schema.properties ?? {},
    }))
  );
}

/** A value of the wrong type for a property of `type`. */
const wrongFor = (type?: string): unknown =>
  type === "string"
    ? 12345
    : type === "number" || type === "integer"
    ? "not a number"
    : type === "boolean"
    ? "yes"
    : type === "array"
    ? { not: "an array" }
    : type === "object"
    ? "not an object"
    : [[["nested"]]];

const BAD_SEGMENTS = [
  "..%2F..%2Fetc%2Fpasswd",
  "%00",
  "x".repeat(300),
  "%F0%9F%92%A5",
  "constructor",
  "__proto__",
];

const RAW_BODIES = [
  "{",
  "null",
  "[]",
  '"a string"',
  "12",
  "\u0000\u0001",
  "[".repeat(5000) + "]".repeat(5000),
  JSON.stringify({ a: "x".repeat(100_000) }),
];

Deno.test("fuzzing every route in the OpenAPI document: malformed bodies, wrong types, huge payloads, bad paths and bad tokens get 4xx, never a 500, and the server lives", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "troupe-fuzz-" });
  try {
    const tokens = join(tmp, "tokens.json");
    await Deno.writeTextFile(
      tokens,
      JSON.stringify({ tokens: [{ name: "fuzz", role: "admin", token: ADMIN }] }),
    );
    await using server = await ControlServer.start({
      port: 0,
      ledger: join(tmp, "ledger.duckdb"),
      tokens,
      keys: join(tmp, "keys"),
      approvals: join(tmp, "approvals"),
      plugins: join(tmp, "plugins"),
    });
    const doc = await (await fetch(`${server.url}/openapi.json`, {
      headers: { authorization: `Bearer ${ADMIN}` },
    })).json();
    const ops = operations(doc);
    assert.ok(ops.length >= 15, `only ${ops.length} operations described`);

    const statuses = new Map<number, number>();
    let sent = 0;
    const send = async (
      what: string,
      method: string,
      path: string,
      body?: string,
      auth: string | null = `Bearer ${ADMIN}`,
    ) => {
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (auth !== null) headers.authorization = auth;
      const res = await fetch(`${server.url}${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body }),
        signal: AbortSignal.timeout(20_000),
      });
      sent++;
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      assert.ok(res.status < 500, `${what}: ${method} ${path} gave ${res.status}`);
      if (res.headers.get("content-type")?.includes("event-stream")) {
        await res.body?.cancel();
        return;
      }
      const text = await res.text();
      if (res.status >= 400) {
        const parsed = JSON.parse(text);
        assert.equal(typeof parsed.error?.message, "string", `${what}: ${text.slice(0, 200)}`);
      }
    };

    for (const op of ops) {
      const paths = op.path.includes("{")
        ? BAD_SEGMENTS.map((seg) => op.path.replace(/\{[^}]+\}/g, seg))
        : [op.path];
      const concrete = op.path.replace(/\{[^}]+\}/g, "nothing-here");
      // Bad tokens, on every operation but the one that needs none.
      if (op.path !== "/health") {
        for (
          const auth of [null, "Bearer wrong-token-0123456789", "Basic Zm9vOmJhcg==", "Bearer"]
        ) {
          const before = sent;
          await send("bad token", op.method, concrete, op.hasBody ? "{}" : undefined, auth);
          assert.equal(sent, before + 1);
        }
      }
      for (const path of paths) {
        await send("bad path", op.method, path, op.hasBody ? "{" : undefined);
      }
      if (op.method === "GET") {
        await send("bad query", op.method, `${concrete}?limit=-5&mode=nope&after=-1&run=%00`);
        continue;
      }
      if (!op.hasBody) continue;
      for (const raw of RAW_BODIES) await send("malformed body", op.method, concrete, raw);
      await send("huge body", op.method, concrete, JSON.stringify({ pad: "x".repeat(2 << 20) }));
      for (const [name, schema] of Object.entries(op.properties)) {
        await send(
          `wrong type for ${name}`,
          op.method,
          concrete,
          JSON.stringify({ [name]: wrongFor(schema.type) }),
        );
      }
      await send("an unknown field", op.method, concrete, JSON.stringify({ colour: "red" }));
    }
    assert.ok(sent > 200, `${sent} requests`);
    // Refusals, not successes, for what was sent; and the server still answers.
    assert.ok((statuses.get(400) ?? 0) > 50, JSON.stringify([...statuses]));
    assert.ok((statuses.get(401) ?? 0) > 40, JSON.stringify([...statuses]));
    assert.equal((await fetch(`${server.url}/health`)).status, 200);
    const ready = await fetch(`${server.url}/ready`, {
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    assert.equal(ready.status, 200);
    assert.deepEqual(
      await (await fetch(`${server.url}/runs`, {
        headers: { authorization: `Bearer ${ADMIN}` },
      })).json(),
      [],
      "no fuzzed request started a run",
    );
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
