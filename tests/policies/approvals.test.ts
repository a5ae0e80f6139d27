import assert from "node:assert/strict";
import { join } from "node:path";
import {
  ApprovalDesk,
  type ApprovalRequest,
  MAX_VOTE_BYTES,
  newKey,
  readKeyFile,
  signVote,
} from "../../policies/mod.ts";
import { cli, USER_PERMISSIONS } from "../cli_helpers.ts";
import { selectFrom, withLedger } from "../ledger_helpers.ts";

/** A key folder with three approvers and an operator, and an approvals inbox beside it. */
async function people() {
  const dir = await Deno.makeTempDir({ prefix: "troupe-approvals-" });
  const keys = join(dir, "keys");
  for (const name of ["alice", "bob", "carol"]) await newKey(keys, name, "approver");
  await newKey(keys, "olga", "operator");
  const key = (name: string) => readKeyFile(join(keys, `${name}.key.json`));
  return { dir, keys, inbox: join(dir, "inbox"), key };
}

async function drop(inbox: string, request: ApprovalRequest, name: string, vote: unknown) {
  await Deno.writeTextFile(join(inbox, request.id, `${name}.vote.json`), JSON.stringify(vote));
}

const TWO_APPROVERS = { roles: ["approver"], threshold: 2, expiresInMs: 60_000 };

Deno.test("only distinct, well-signed votes from the right role count; each refusal is recorded with its reason", () =>
  withLedger(async (ledger) => {
    const p = await people();
    try {
      const news: string[] = [];
      const desk = await ApprovalDesk.open({
        ledger,
        dir: p.inbox,
        keyDir: p.keys,
        onNews: (t) => news.push(t),
      });
      const request = await desk.request({
        runId: "r1",
        key: "deploy",
        action: "deploy.production",
        actor: "delivery",
        resources: ["service/api"],
        summary: "deploy api",
        approval: TWO_APPROVERS,
      });
      const alice = await signVote(await p.key("alice"), request, "approve");
      await drop(p.inbox, request, "1-alice", alice);
      await drop(
        p.inbox,
        request,
        "2-alice-again",
        await signVote(await p.key("alice"), request, "approve"),
      );
      await drop(
        p.inbox,
        request,
        "3-olga",
        await signVote(await p.key("olga"), request, "approve"),
      );
      const forged = { ...alice, vote: { ...alice.vote, signer: "bob" } };
      await drop(p.inbox, request, "4-forged", forged);
      await drop(p.inbox, request, "5-junk", { hello: 1 });
      const other = { ...request, resources: ["service/db"] };
      await drop(
        p.inbox,
        request,
        "6-other",
        await signVote(await p.key("carol"), other, "approve"),
      );

      assert.deepEqual(await desk.poll(request.id), { status: "pending", signers: ["alice"] });
      const text = news.join("\n");
      assert.match(text, /signed by alice \(1\/2 signatures\)/);
      assert.match(text, /2-alice-again.*duplicate: "alice" has already signed; counted once/);
      assert.match(text, /3-olga.*"olga" has role operator; this approval needs approver/);
      assert.match(text, /4-forged.*bad signature/);
      assert.match(text, /5-junk.*not a vote/);
      assert.match(text, /6-other.*signs a different version of this request/);

      await drop(p.inbox, request, "7-bob", await signVote(await p.key("bob"), request, "approve"));
      assert.deepEqual(await desk.wait(request.id), {
        status: "granted",
        signers: ["alice", "bob"],
      });
      const rows = await ledger.select(
        "SELECT type, count(*)::INT AS n FROM events WHERE type LIKE 'approval_%' GROUP BY ALL ORDER BY ALL",
      );
      assert.deepEqual(rows.map((r) => [r.type, r.n]), [
        ["approval_decided", 1],
        ["approval_requested", 1],
        ["approval_vote_counted", 2],
        ["approval_vote_refused", 5],
      ]);
    } finally {
      await Deno.remove(p.dir, { recursive: true });
    }
  }));

Deno.test("one rejection ends an approval; an approval left unsigned expires with a clear reason", () =>
  withLedger(async (ledger) => {
    const p = await people();
    try {
      let now = 1_000_000;
      const desk = await ApprovalDesk.open({
        ledger,
        dir: p.inbox,
        keyDir: p.keys,
        now: () => now,
      });
      const ask = (key: string) =>
        desk.request({
          runId: "r2",
          key,
          action: "fs.write",
          actor: "coder",
          resources: ["src/a.ts"],
          summary: key,
          approval: TWO_APPROVERS,
        });
      const a = await ask("a");
      assert.equal((await ask("a")).id, a.id, "asking again with the same key parks nothing new");
      await drop(
        p.inbox,
        a,
        "carol",
        await signVote(await p.key("carol"), a, "reject", "too risky", now),
      );
      assert.deepEqual(await desk.poll(a.id), {
        status: "rejected",
        by: "carol",
        reason: "too risky",
      });

      const b = await ask("b");
      await drop(p.inbox, b, "bob", await signVote(await p.key("bob"), b, "approve", "", now));
      now += 60_000;
      const late = await signVote(await p.key("alice"), b, "approve", "", now);
      await drop(p.inbox, b, "alice-late", late);
      assert.deepEqual(await desk.poll(b.id), { status: "expired" });
      const refused = await ledger.select(
        "SELECT payload->>'reason' AS reason FROM events WHERE type = 'approval_vote_refused'",
      );
      assert.deepEqual(refused.map((r) => r.reason), ["signed after the approval expired"]);
    } finally {
      await Deno.remove(p.dir, { recursive: true });
    }
  }));

Deno.test("a 2-of-3 approval survives a SIGKILL of the waiting run between the first and second signature", async () => {
  const p = await people();
  try {
    const repo = join(p.dir, "repo");
    await new Deno.Command("cp", {
      args: ["-r", new URL("../fixtures/repos/go_mod", import.meta.url).pathname, repo],
    }).output();
    const policy = join(p.dir, "team.yaml");
    await Deno.writeTextFile(
      policy,
      [
        "name: team",
        "rules:",
        "  - id: writes", // replaces the preset's rule of the same id
        "    match: { action: fs.write }",
        "    effect: require_approval",
        "    approval: { roles: [approver], threshold: 2 }",
      ].join("\n"),
    );
    const ledger = join(p.dir, "ledger.duckdb");
    const signing = ["--keys", p.keys, "--approvals", p.inbox];
    const where = ["--ledger", ledger, ...signing];
    const main = new URL("../../cli/main.ts", import.meta.url).pathname;
    const start = (args: string[]) =>
      new Deno.Command(Deno.execPath(), {
        args: ["run", ...USER_PERMISSIONS, "--quiet", main, "run", ...args, ...where],
        stdout: "null",
        stderr: "piped",
      }).spawn();
    /** Reads a child's stderr until `pattern` appears; returns everything read. */
    const until = async (reader: ReadableStreamDefaultReader<string>, pattern: RegExp) => {
      let seen = "";
      while (!pattern.test(seen)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`the run ended before ${pattern}:\n${seen}`);
        seen += value;
      }
      return seen;
    };

    const first = start(["--repo", repo, "--apply", "--autonomy", "5", "--policy", policy]);
    const err1 = first.stderr.pipeThrough(new TextDecoderStream()).getReader();
    let id = "", runId = "";
    try {
      const seen = await until(err1, /approval (apr-\S+) needed \(2 of approver\)/);
      id = seen.match(/approval (apr-\S+) needed/)![1];
      runId = seen.match(/^run (run-\S+):/m)![1];
      const wrongRole = await cli([
        "approve",
        id,
        "--key",
        join(p.keys, "olga.key.json"),
        ...signing,
      ]);
      assert.equal(wrongRole.code, 1);
      assert.match(wrongRole.stderr, /would not count: "olga" has role operator/);
      const a = await cli(["approve", id, "--key", join(p.keys, "alice.key.json"), ...signing]);
      assert.equal(a.code, 0, a.stderr);
      await until(err1, /signed by alice \(1\/2 signatures\)/);
    } finally {
      first.kill("SIGKILL");
      await first.status;
      await err1.cancel().catch(() => {});
    }
    await assert.rejects(
      Deno.stat(join(repo, ".gitlab-ci.yml")),
      "nothing written before approval",
    );
    // The process that asked is gone: the listing says so at once, not when the request expires.
    const orphaned = JSON.parse(
      (await cli(["approvals", "--approvals", p.inbox, "--json"])).stdout,
    );
    assert.equal(orphaned[0].outcome.status, "orphaned");
    assert.match(orphaned[0].outcome.reason, new RegExp(`--resume ${runId}`));

    const second = start(["--resume", runId]);
    const err2 = second.stderr.pipeThrough(new TextDecoderStream()).getReader();
    try {
      await until(err2, new RegExp(`approval ${id} needed`));
      // The resumed run holds the request again: listed as pending, no longer orphaned.
      const waiting = await cli(["approvals", "--approvals", p.inbox, "--json"]);
      assert.equal(JSON.parse(waiting.stdout)[0].outcome.status, "pending");
      // alice again: after the restart her first vote still counts, and only once.
      const again = await cli(["approve", id, "--key", join(p.keys, "alice.key.json"), ...signing]);
      assert.equal(again.code, 0, again.stderr);
      const b = await cli(["approve", id, "--key", join(p.keys, "bob.key.json"), ...signing]);
      assert.equal(b.code, 0, b.stderr);
      const rest = await until(err2, /approved by alice, bob/);
      assert.match(rest, /duplicate: "alice" has already signed/);
    } finally {
      await err2.cancel().catch(() => {});
    }
    assert.equal((await second.status).code, 0);
    for (const f of [".github/workflows/ci.yml", ".gitlab-ci.yml", "azure-pipelines.yml"]) {
      await Deno.stat(join(repo, f));
    }
    const approvals = await selectFrom(
      ledger,
      `SELECT type, payload->'state'->>'status' AS status FROM events
       WHERE type IN ('approval_requested', 'approval_decided') ORDER BY seq`,
    );
    assert.deepEqual(
      approvals.map((r) => [r.type, r.status]),
      [["approval_requested", null], ["approval_decided", "granted"]],
      "the resumed run waits on the same request, which is granted once",
    );
    const list = await cli(["approvals", "--approvals", p.inbox, "--json"]);
    assert.equal(JSON.parse(list.stdout)[0].outcome.status, "granted");
  } finally {
    await Deno.remove(p.dir, { recursive: true });
  }
});

Deno.test("a vote file larger than a vote can be is refused unread, and counting goes on", () =>
  withLedger(async (ledger) => {
    const p = await people();
    try {
      const news: string[] = [];
      const desk = await ApprovalDesk.open({
        ledger,
        dir: p.inbox,
        keyDir: p.keys,
        onNews: (t) => news.push(t),
      });
      const request = await desk.request({
        runId: "r3",
        key: "big",
        action: "fs.write",
        actor: "coder",
        resources: ["src/a.ts"],
        summary: "write a.ts",
        approval: { roles: ["approver"], threshold: 1, expiresInMs: 60_000 },
      });
      await Deno.writeTextFile(
        join(p.inbox, request.id, "0-huge.vote.json"),
        JSON.stringify({ pad: "x".repeat(MAX_VOTE_BYTES) }),
      );
      await drop(
        p.inbox,
        request,
        "1-alice",
        await signVote(await p.key("alice"), request, "approve"),
      );
      assert.deepEqual(await desk.poll(request.id), { status: "granted", signers: ["alice"] });
      assert.match(news.join("\n"), /0-huge.*larger than 65536 bytes; it was not read/);
    } finally {
      await Deno.remove(p.dir, { recursive: true });
    }
  }));
