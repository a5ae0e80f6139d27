import { join } from "node:path";
import {
  ApprovalRequest,
  checkVote,
  DEFAULT_APPROVALS_DIR,
  DEFAULT_KEY_DIR,
  readKeyFile,
  readTrustList,
  signVote,
} from "../../policies/mod.ts";
import { defineCommand, JSON_FLAG } from "../command.ts";

const common = `
Options:
  --key FILE         your private key file (from deno task keys new)
  --keys DIR         the key folder holding trust.json (default ${DEFAULT_KEY_DIR})
  --approvals DIR    the approvals inbox (default ${DEFAULT_APPROVALS_DIR})
  --json             print the vote as JSON
  -h, --help         show this help`;

const flags = {
  key: { type: "string" },
  keys: { type: "string", default: DEFAULT_KEY_DIR },
  approvals: { type: "string", default: DEFAULT_APPROVALS_DIR },
  reason: { type: "string", default: "" },
  json: JSON_FLAG,
} as const;

async function readRequest(dir: string, id: string): Promise<ApprovalRequest> {
  const file = join(dir, `${id}.request.json`);
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch {
    throw new Error(`no approval "${id}" in ${dir} (see deno task approvals)`);
  }
  return ApprovalRequest.parse(JSON.parse(text));
}

/** approve and reject: sign a vote and drop it into the inbox, where the waiting run counts it. */
function voteCommand(decision: "approve" | "reject") {
  return defineCommand({
    name: decision,
    summary: `${decision} a pending approval with your key`,
    usage: `Usage: deno task ${decision} ID --key FILE${
      decision === "reject" ? " --reason TEXT" : ""
    } [--keys DIR] [--approvals DIR] [--json]

Signs your ${decision === "approve" ? "approval" : "rejection"} of the pending request ID with your
Ed25519 key. The process waiting on it checks the signature against the trust list, counts distinct
signers with a required role, and records every vote in the ledger.
${common}${decision === "reject" ? "\n  --reason TEXT      why (required)" : ""}`,
    flags,
    async run(f, [id], fail) {
      if (!id) return fail("give the approval ID (see deno task approvals)");
      if (!f.key) return fail("--key FILE is required");
      if (decision === "reject" && !f.reason) return fail("--reason is required to reject");
      try {
        const request = await readRequest(f.approvals, id);
        const done = await Deno.readTextFile(join(f.approvals, `${id}.outcome.json`)).catch(
          () => null,
        );
        if (done) {
          throw new Error(`approval ${id} is already decided: ${done.replace(/\s+/g, " ")}`);
        }
        const key = await readKeyFile(f.key);
        const signed = await signVote(key, request, decision, f.reason);
        // Checked here too, so that a vote that cannot count is refused at once, not later.
        const checked = await checkVote(signed, request, await readTrustList(f.keys));
        if (!checked.ok) throw new Error(`this vote would not count: ${checked.reason}`);
        const file = join(f.approvals, id, `${key.name}-${signed.vote.signedAt}.vote.json`);
        await Deno.mkdir(join(f.approvals, id), { recursive: true });
        await Deno.writeTextFile(file, JSON.stringify(signed, null, 2), { createNew: true });
        console.log(
          f.json
            ? JSON.stringify({ ...signed.vote, file })
            : `${
              decision === "approve" ? "approved" : "rejected"
            } ${id} as ${key.name}: ${request.summary}`,
        );
        return 0;
      } catch (err) {
        console.error(`troupe ${decision}: ${(err as Error).message}`);
        return 1;
      }
    },
  });
}

export const approve = voteCommand("approve");
export const reject = voteCommand("reject");

export const approvals = defineCommand({
  name: "approvals",
  summary: "list approval requests and how they stand",
  usage: `Usage: deno task approvals [--approvals DIR] [--json]

Lists the approval requests in the inbox: what is asked, who may sign, the votes dropped so far
and the outcome once the waiting process has decided it.

Options:
  --approvals DIR    the approvals inbox (default ${DEFAULT_APPROVALS_DIR})
  --json             print them as JSON
  -h, --help         show this help`,
  flags: { approvals: flags.approvals, json: JSON_FLAG },
  async run(f) {
    const rows = [];
    try {
      for await (const e of Deno.readDir(f.approvals)) {
        if (!e.name.endsWith(".request.json")) continue;
        const request = await readRequest(f.approvals, e.name.replace(".request.json", ""));
        const outcome = await Deno.readTextFile(join(f.approvals, `${request.id}.outcome.json`))
          .then(
            JSON.parse,
            () => ({ status: Date.now() >= request.expiresAt ? "expired" : "pending" }),
          );
        const votes: string[] = [];
        try {
          for await (const v of Deno.readDir(join(f.approvals, request.id))) {
            if (v.name.endsWith(".vote.json")) votes.push(v.name);
          }
        } catch { /* no votes yet */ }
        rows.push({ ...request, votes: votes.sort(), outcome });
      }
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
    rows.sort((a, b) => a.requestedAt - b.requestedAt);
    if (f.json) console.log(JSON.stringify(rows, null, 2));
    else if (rows.length === 0) console.log(`no approval requests in ${f.approvals}`);
    else {
      for (const r of rows) {
        console.log(
          `${r.id}  ${r.outcome.status.padEnd(8)} ${r.summary}\n    ${r.threshold} of ${
            r.roles.join("/")
          } needed; ${r.votes.length} vote file(s); expires ${new Date(r.expiresAt).toISOString()}`,
        );
      }
    }
    return 0;
  },
});
