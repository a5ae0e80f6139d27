import assert from "node:assert/strict";
import {
  issueWarrant,
  newKey,
  readKeyFile,
  readTrustList,
  WarrantVerifier,
} from "../../policies/mod.ts";
import { encodeBase64Url } from "../../policies/base64url.ts";
import { cli } from "../cli_helpers.ts";

async function keyDir() {
  const dir = await Deno.makeTempDir({ prefix: "troupe-keys-" });
  const made = await cli(["keys", "new", "ops", "--role", "operator", "--dir", dir, "--json"]);
  assert.equal(made.code, 0, made.stderr);
  await newKey(dir, "alice", "approver");
  return dir;
}

Deno.test("a valid warrant lets its subject act once within its actions and resources", async () => {
  const dir = await keyDir();
  try {
    const ops = await readKeyFile(`${dir}/ops.key.json`);
    const token = await issueWarrant(ops, {
      subject: "coder",
      actions: ["fs.write"],
      resources: ["src/**"],
      ttlMs: 60_000,
    });
    const refused: string[] = [];
    const verifier = new WarrantVerifier(await readTrustList(dir), {
      onRefusal: (_u, r) => refused.push(r),
    });
    const use = { actor: "coder", action: "fs.write", resource: "src/a.ts" };
    const outOfScope = await verifier.verify(token, { ...use, resource: "infra/main.tf" });
    assert.equal(outOfScope.ok, false);
    assert.match(
      (outOfScope as { reason: string }).reason,
      /covers src\/\*\*, not "infra\/main.tf"/,
    );
    assert.match(
      (await verifier.verify(token, { ...use, actor: "mallory" }) as { reason: string }).reason,
      /for actor "coder"/,
    );
    const check = await verifier.verify(token, use);
    assert.equal(check.ok, true);
    const replay = await verifier.verify(token, use);
    assert.match((replay as { reason: string }).reason, /already used: replay refused/);
    assert.equal(refused.length, 3, "every refusal is reported");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("forged, expired, revoked and wrongly issued warrants are refused with the reason", async () => {
  const dir = await keyDir();
  const other = await Deno.makeTempDir({ prefix: "troupe-keys-" });
  try {
    const trust = await readTrustList(dir);
    const ops = await readKeyFile(`${dir}/ops.key.json`);
    const use = { actor: "coder", action: "git.push" };
    const reason = async (token: string, verifier = new WarrantVerifier(trust)) => {
      const r = await verifier.verify(token, use);
      assert.equal(r.ok, false);
      return (r as { reason: string }).reason;
    };
    // Forged: claims edited after signing.
    const good = await issueWarrant(ops, {
      subject: "coder",
      actions: ["git.push"],
      ttlMs: 60_000,
    });
    const [body, sig] = good.split(".");
    const claims = JSON.parse(
      new TextDecoder().decode(
        Uint8Array.from(atob(body.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0)),
      ),
    );
    const widened = encodeBase64Url(
      new TextEncoder().encode(JSON.stringify({ ...claims, actions: ["**"] })),
    );
    assert.match(await reason(`${widened}.${sig}`), /forged or altered/);
    // Forged: signed by a key of the same name that the trust list does not hold.
    await newKey(other, "ops", "operator");
    const impostor = await issueWarrant(await readKeyFile(`${other}/ops.key.json`), {
      subject: "coder",
      actions: ["git.push"],
      ttlMs: 60_000,
    });
    assert.match(await reason(impostor), /forged or altered/);
    // Expired.
    const later = new WarrantVerifier(trust, { now: () => Date.now() + 120_000 });
    assert.match(await reason(good, later), /expired at/);
    // Revoked.
    const revoking = new WarrantVerifier(trust);
    revoking.revoke(claims.nonce);
    assert.match(await reason(good, revoking), /was revoked/);
    // Issued by an approver, who may sign approvals but not warrants.
    const alice = await readKeyFile(`${dir}/alice.key.json`);
    assert.match(
      await reason(
        await issueWarrant(alice, { subject: "coder", actions: ["git.push"], ttlMs: 60_000 }),
      ),
      /only operators and admins/,
    );
    assert.match(await reason("not-a-warrant"), /malformed/);
    // The untouched warrant still works.
    assert.equal((await new WarrantVerifier(trust).verify(good, use)).ok, true);
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(other, { recursive: true });
  }
});

Deno.test("deno task keys refuses bad roles and duplicate names", async () => {
  const dir = await keyDir();
  try {
    const badRole = await cli(["keys", "new", "bob", "--role", "king", "--dir", dir]);
    assert.equal(badRole.code, 2);
    assert.match(badRole.stderr, /--role must be approver, operator or admin, not "king"/);
    const dup = await cli(["keys", "new", "ops", "--role", "admin", "--dir", dir]);
    assert.equal(dup.code, 1);
    assert.match(dup.stderr, /already trusted/);
    const trust = await readTrustList(dir);
    assert.deepEqual(trust.keys.map((k) => [k.name, k.role]), [["ops", "operator"], [
      "alice",
      "approver",
    ]]);
    assert.equal((await Deno.stat(`${dir}/ops.key.json`)).mode! & 0o777, 0o600);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
