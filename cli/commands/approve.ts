import {
  castVote,
  DEFAULT_APPROVALS_DIR,
  DEFAULT_KEY_DIR,
  listApprovals,
  readKeyFile,
  readRequest,
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
      const request = await readRequest(f.approvals, id);
      const key = await readKeyFile(f.key);
      const signed = await signVote(key, request, decision, f.reason);
      const file = await castVote(f.approvals, signed, request, await readTrustList(f.keys));
      console.log(
        f.json
          ? JSON.stringify({ ...signed.vote, file })
          : `${
            decision === "approve" ? "approved" : "rejected"
          } ${id} as ${key.name}: ${request.summary}`,
      );
      return 0;
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
and how each stands: pending (a process is waiting on it), orphaned (the process that asked is
gone; resuming its run picks it up), expired, or the outcome once decided.

Options:
  --approvals DIR    the approvals inbox (default ${DEFAULT_APPROVALS_DIR})
  --json             print them as JSON
  -h, --help         show this help`,
  flags: { approvals: flags.approvals, json: JSON_FLAG },
  async run(f) {
    const rows = await listApprovals(f.approvals);
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
