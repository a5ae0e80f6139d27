import { z } from "zod";
import { eventType } from "../ledger/mod.ts";
import { ApprovalRequest, Vote } from "./approval.ts";

/** The approval desk's ledger events, from which a restarted process rebuilds every approval. */

export const ApprovalStateSchema = z.discriminatedUnion("status", [
  z.object({ status: z.literal("pending"), signers: z.array(z.string()) }),
  z.object({ status: z.literal("granted"), signers: z.array(z.string()) }),
  z.object({ status: z.literal("rejected"), by: z.string(), reason: z.string() }),
  z.object({ status: z.literal("expired") }),
]);

export const ApprovalRequested = eventType(
  "approval_requested",
  z.object({ request: ApprovalRequest, key: z.string() }),
);
export const ApprovalVoteCounted = eventType(
  "approval_vote_counted",
  z.object({ approvalId: z.string(), file: z.string(), vote: Vote }),
);
export const ApprovalVoteRefused = eventType(
  "approval_vote_refused",
  z.object({
    approvalId: z.string(),
    file: z.string(),
    reason: z.string().optional(),
    signer: z.string().optional(),
  }),
);
export const ApprovalDecided = eventType(
  "approval_decided",
  z.object({ approvalId: z.string(), state: ApprovalStateSchema }),
);

export const APPROVAL_EVENTS = [
  ApprovalRequested,
  ApprovalVoteCounted,
  ApprovalVoteRefused,
  ApprovalDecided,
] as const;
