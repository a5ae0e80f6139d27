import { z } from "zod";
import { globs } from "./globs.ts";
import { canonicalJson } from "../runtime/canonical_json.ts";
import { decodeBase64Url, encodeBase64Url } from "./base64url.ts";
import { importPublicKey, type KeyFile, sign, type TrustList } from "./keys.ts";

/** The claims of a warrant: who may do what, on what, until when. */
export const WarrantClaims = z.strictObject({
  issuer: z.string().min(1),
  subject: z.string().min(1),
  actions: z.array(z.string().min(1)).min(1),
  resources: z.array(z.string().min(1)).default(["**"]),
  issuedAt: z.number().int(),
  expiresAt: z.number().int(),
  nonce: z.string().min(8),
});
/** What a warrant grants: to whom, which actions on which resources, until when, how often. */
export type WarrantClaims = z.infer<typeof WarrantClaims>;

/** Issues a warrant: `base64url(canonical claims).base64url(Ed25519 signature)`. */
export async function issueWarrant(
  key: KeyFile,
  grant: { subject: string; actions: string[]; resources?: string[]; ttlMs: number },
): Promise<string> {
  const now = Date.now();
  const claims: WarrantClaims = {
    issuer: key.name,
    subject: grant.subject,
    actions: grant.actions,
    resources: grant.resources ?? ["**"],
    issuedAt: now,
    expiresAt: now + grant.ttlMs,
    nonce: crypto.randomUUID(),
  };
  const body = encodeBase64Url(new TextEncoder().encode(canonicalJson(claims)));
  return `${body}.${await sign(key, body)}`;
}

/** Whether a warrant allows one use, and why not. */
export type WarrantCheck = { ok: true; claims: WarrantClaims } | { ok: false; reason: string };

/** One use a warrant is checked for. */
export interface WarrantUse {
  actor: string;
  action: string;
  resource?: string;
}

/**
 * Checks warrants against the trust list. A warrant is good for one use: its nonce is spent
 * when it is accepted, so a replayed warrant is refused; revoked nonces are refused too.
 */
export class WarrantVerifier {
  readonly #spent = new Set<string>();
  readonly #revoked = new Set<string>();

  constructor(
    readonly trust: TrustList,
    readonly options: {
      onRefusal?: (use: WarrantUse, reason: string) => void;
      now?: () => number;
    } = {},
  ) {}

  /** Revokes a warrant by id: it is refused from now on. */
  revoke(nonce: string): void {
    this.#revoked.add(nonce);
  }

  /** Checks a warrant's signature, expiry, scope and use count for one use. */
  async verify(token: string, use: WarrantUse): Promise<WarrantCheck> {
    const result = await this.#check(token, use);
    if (!result.ok) this.options.onRefusal?.(use, result.reason);
    else this.#spent.add(result.claims.nonce);
    return result;
  }

  async #check(token: string, use: WarrantUse): Promise<WarrantCheck> {
    const refuse = (reason: string): WarrantCheck => ({ ok: false, reason });
    const [body, signature, extra] = token.split(".");
    if (!body || !signature || extra !== undefined) {
      return refuse("malformed warrant: expected CLAIMS.SIGNATURE");
    }
    let claims: WarrantClaims;
    try {
      claims = WarrantClaims.parse(JSON.parse(new TextDecoder().decode(decodeBase64Url(body))));
    } catch (err) {
      return refuse(`malformed warrant claims: ${(err as Error).message.split("\n")[0]}`);
    }
    const issuer = this.trust.keys.find((k) => k.name === claims.issuer);
    if (!issuer) return refuse(`warrant issuer "${claims.issuer}" is not in the trust list`);
    if (issuer.role !== "admin" && issuer.role !== "operator") {
      return refuse(
        `warrant issuer "${claims.issuer}" has role ${issuer.role}; only operators and admins issue warrants`,
      );
    }
    const valid = await crypto.subtle.verify(
      "Ed25519",
      await importPublicKey(issuer.publicKey),
      decodeBase64Url(signature),
      new TextEncoder().encode(body),
    );
    if (!valid) {
      return refuse(
        `warrant signature does not match issuer "${claims.issuer}": forged or altered`,
      );
    }
    const now = this.options.now?.() ?? Date.now();
    if (now >= claims.expiresAt) {
      return refuse(`warrant expired at ${new Date(claims.expiresAt).toISOString()}`);
    }
    if (this.#revoked.has(claims.nonce)) return refuse(`warrant ${claims.nonce} was revoked`);
    if (this.#spent.has(claims.nonce)) {
      return refuse(`warrant ${claims.nonce} was already used: replay refused`);
    }
    if (claims.subject !== use.actor) {
      return refuse(`warrant is for actor "${claims.subject}", not "${use.actor}"`);
    }
    if (!globs(claims.actions)(use.action)) {
      return refuse(`warrant allows ${claims.actions.join(", ")}, not "${use.action}"`);
    }
    if (use.resource !== undefined && !globs(claims.resources)(use.resource)) {
      return refuse(`warrant covers ${claims.resources.join(", ")}, not "${use.resource}"`);
    }
    return { ok: true, claims };
  }
}
