import { z } from "zod";
import { canonicalJson } from "../runtime/canonical_json.ts";
import { sha256Hex } from "../runtime/sha256.ts";
import { decodeBase64Url } from "./base64url.ts";
import { importPublicKey, type KeyFile, sign, type TrustList } from "./keys.ts";

/** An action parked until enough people sign it: what is asked, by whom, who may sign, until when. */
export const ApprovalRequest = z.strictObject({
  id: z.string().regex(/^apr-[a-z0-9-]+$/),
  runId: z.string().nullable(),
  action: z.string().min(1),
  actor: z.string().min(1),
  resources: z.array(z.string()),
  summary: z.string(),
  roles: z.array(z.string().min(1)).min(1),
  threshold: z.number().int().min(1),
  requestedAt: z.number().int(),
  expiresAt: z.number().int(),
});
/** An action parked until enough people sign it. */
export type ApprovalRequest = z.infer<typeof ApprovalRequest>;

/** One person's signed answer to one request; `requestHash` binds it to that request's content. */
export const Vote = z.strictObject({
  approvalId: z.string(),
  requestHash: z.string().length(64),
  decision: z.enum(["approve", "reject"]),
  reason: z.string().default(""),
  signer: z.string().min(1),
  signedAt: z.number().int(),
});
/** One person's answer to one request, before it is signed. */
export type Vote = z.infer<typeof Vote>;

/** A vote and its Ed25519 signature, as a vote file holds it. */
export const SignedVote = z.strictObject({ vote: Vote, signature: z.string().min(1) });
/** A vote and its Ed25519 signature, as a vote file holds it. */
export type SignedVote = z.infer<typeof SignedVote>;

/** The SHA-256 of a request's canonical JSON: what a vote signs, so it cannot count for another version. */
export function requestHash(request: ApprovalRequest): string {
  return sha256Hex(canonicalJson(request));
}

/** Signs a vote on `request` with a private key file. */
export async function signVote(
  key: KeyFile,
  request: ApprovalRequest,
  decision: Vote["decision"],
  reason = "",
  now = Date.now(),
): Promise<SignedVote> {
  const vote: Vote = {
    approvalId: request.id,
    requestHash: requestHash(request),
    decision,
    reason,
    signer: key.name,
    signedAt: now,
  };
  return { vote, signature: await sign(key, canonicalJson(vote)) };
}

export type VoteCheck = { ok: true; vote: Vote } | { ok: false; reason: string };

/**
 * Checks one vote against a request and the trust list: a known signer, a good signature over
 * this very request, a role the request accepts, signed before it expired. Duplicates are the
 * counter's business (`ApprovalTally`).
 */
export async function checkVote(
  signed: unknown,
  request: ApprovalRequest,
  trust: TrustList,
): Promise<VoteCheck> {
  const parsed = SignedVote.safeParse(signed);
  if (!parsed.success) {
    return { ok: false, reason: `not a vote: ${parsed.error.issues[0].message}` };
  }
  const { vote, signature } = parsed.data;
  const refuse = (reason: string): VoteCheck => ({ ok: false, reason });
  if (vote.approvalId !== request.id) return refuse(`the vote is for ${vote.approvalId}`);
  const key = trust.keys.find((k) => k.name === vote.signer);
  if (!key) return refuse(`signer "${vote.signer}" is not in the trust list`);
  let valid = false;
  try {
    valid = await crypto.subtle.verify(
      "Ed25519",
      await importPublicKey(key.publicKey),
      decodeBase64Url(signature),
      new TextEncoder().encode(canonicalJson(vote)),
    );
  } catch { /* a malformed signature is a bad signature */ }
  if (!valid) return refuse(`bad signature: not made by "${vote.signer}"'s key, or altered`);
  if (vote.requestHash !== requestHash(request)) {
    return refuse("the vote signs a different version of this request");
  }
  if (!request.roles.includes(key.role)) {
    return refuse(
      `"${vote.signer}" has role ${key.role}; this approval needs ${request.roles.join(" or ")}`,
    );
  }
  if (vote.signedAt >= request.expiresAt) return refuse("signed after the approval expired");
  return { ok: true, vote };
}

/** Where an approval stands: pending with its signers so far, granted, rejected or expired. */
export type ApprovalState =
  | { status: "pending"; signers: string[] }
  | { status: "granted"; signers: string[] }
  | { status: "rejected"; by: string; reason: string }
  | { status: "expired" };

/** Counts checked votes: distinct signers up to the threshold; one valid rejection ends it. */
export class ApprovalTally {
  readonly signers = new Set<string>();
  rejected?: { by: string; reason: string };

  constructor(readonly request: ApprovalRequest) {}

  /** Adds a checked vote; returns why it did not count, if it did not. */
  add(vote: Vote): string | undefined {
    if (this.signers.has(vote.signer) || this.rejected?.by === vote.signer) {
      return `duplicate: "${vote.signer}" has already signed; counted once`;
    }
    if (vote.decision === "reject") this.rejected = { by: vote.signer, reason: vote.reason };
    else this.signers.add(vote.signer);
  }

  /** The state now: rejected, granted once the threshold is met, expired after `expiresAt`, else pending. */
  state(now = Date.now()): ApprovalState {
    if (this.rejected) return { status: "rejected", ...this.rejected };
    if (this.signers.size >= this.request.threshold) {
      return { status: "granted", signers: [...this.signers] };
    }
    if (now >= this.request.expiresAt) return { status: "expired" };
    return { status: "pending", signers: [...this.signers] };
  }
}
