import { join } from "node:path";
import type { Tried } from "./tried.ts";
import { ControlServer } from "../control/server.ts";

const ADMIN = "hostile-admin-token-0123456789";

interface Operation {
  path: string;
  method: string;
  hasBody: boolean;
  properties: Record<string, { type?: string }>;
}

interface OpenApiDoc {
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
}

/** Every operation the OpenAPI document describes, with its body's top-level properties. */
function operations(doc: OpenApiDoc): Operation[] {
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

const BAD_AUTH = [null, "Bearer wrong-token-0123456789", "Basic Zm9vOmJhcg==", "Bearer"];

/** What the hostile requests came to: each one tried, and how many got each status. */
export interface HostileRequests {
  /** How many operations the OpenAPI document describes. */
  operations: number;
  tried: Tried[];
  statuses: Map<number, number>;
}

/**
 * Starts a real control server on 127.0.0.1 (its own ledger, tokens and folders below
 * `scratch`) and sends every operation its OpenAPI document describes malformed bodies, wrong
 * types, huge payloads, unknown fields, bad path segments, bad queries and bad tokens. Each must
 * be refused with a 4xx and an error a person can read, never a 5xx; afterwards the server must
 * still answer and no request may have started a run.
 */
export async function tryHostileRequests(scratch: string): Promise<HostileRequests> {
  const tokens = join(scratch, "tokens.json");
  await Deno.writeTextFile(
    tokens,
    JSON.stringify({ tokens: [{ name: "hostile", role: "admin", token: ADMIN }] }),
  );
  await using server = await ControlServer.start({
    port: 0,
    ledger: join(scratch, "ledger.duckdb"),
    tokens,
    keys: join(scratch, "keys"),
    approvals: join(scratch, "approvals"),
    plugins: join(scratch, "plugins"),
  });
  const admin = { authorization: `Bearer ${ADMIN}` };
  const doc: OpenApiDoc = await (await fetch(`${server.url}/openapi.json`, { headers: admin }))
    .json();
  const tried: Tried[] = [];
  const statuses = new Map<number, number>();
  const send = async (
    what: string,
    method: string,
    path: string,
    body?: string,
    auth: string | null = admin.authorization,
  ) => {
    const input = `${what}: ${method} ${path.slice(0, 80)}`;
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (auth !== null) headers.authorization = auth;
    let escaped: string | undefined;
    try {
      const res = await fetch(`${server.url}${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body }),
        signal: AbortSignal.timeout(20_000),
      });
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      if (res.headers.get("content-type")?.includes("event-stream")) await res.body?.cancel();
      else {
        const text = await res.text();
        if (res.status >= 500) escaped = `${res.status}: ${text.slice(0, 200)}`;
        else if (res.status >= 400) {
          let message: unknown;
          try {
            message = JSON.parse(text).error?.message;
          } catch { /* not JSON */ }
          if (typeof message !== "string") escaped = `${res.status} without an error: ${text}`;
        }
      }
    } catch (err) {
      escaped = `no answer: ${(err as Error).message}`;
    }
    tried.push({ area: "http", input, ...(escaped ? { escaped } : {}) });
  };

  const ops = operations(doc);
  for (const op of ops) {
    const concrete = op.path.replace(/\{[^}]+\}/g, "nothing-here");
    // Bad tokens, on every operation but the one that needs none.
    if (op.path !== "/health") {
      for (const auth of BAD_AUTH) {
        await send("bad token", op.method, concrete, op.hasBody ? "{}" : undefined, auth);
      }
    }
    if (op.path.includes("{")) {
      for (const seg of BAD_SEGMENTS) {
        const path = op.path.replace(/\{[^}]+\}/g, seg);
        await send("bad path", op.method, path, op.hasBody ? "{" : undefined);
      }
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
  // Afterwards: the server still answers, and nothing sent started a run.
  const after = async (what: string, check: () => Promise<boolean>) => {
    const ok = await check().catch(() => false);
    if (!ok) tried.push({ area: "http", input: "(afterwards)", escaped: what });
  };
  const status = async (path: string) => {
    const res = await fetch(`${server.url}${path}`, { headers: admin });
    await res.body?.cancel();
    return res.status;
  };
  await after("the server stopped answering /health", async () => await status("/health") === 200);
  await after("the server is not ready", async () => await status("/ready") === 200);
  await after(
    "a hostile request started a run",
    async () => (await (await fetch(`${server.url}/runs`, { headers: admin })).json()).length === 0,
  );
  return { operations: ops.length, tried, statuses };
}
