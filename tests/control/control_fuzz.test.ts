import assert from "node:assert/strict";
import { tryHostileRequests } from "../../chaos/hostile_requests.ts";

Deno.test("fuzzing every route in the OpenAPI document: malformed bodies, wrong types, huge payloads, bad paths and bad tokens get 4xx, never a 500, and the server lives", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "troupe-fuzz-" });
  try {
    const { operations, tried, statuses } = await tryHostileRequests(tmp);
    assert.ok(operations >= 15, `only ${operations} operations described`);
    assert.deepEqual(tried.filter((t) => t.escaped), []);
    assert.ok(tried.length > 200, `${tried.length} requests`);
    // Refusals, not successes, for what was sent: bodies and paths (400), tokens (401).
    assert.ok((statuses.get(400) ?? 0) > 50, JSON.stringify([...statuses]));
    assert.ok((statuses.get(401) ?? 0) > 40, JSON.stringify([...statuses]));
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
