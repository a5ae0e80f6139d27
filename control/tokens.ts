import { hash, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import { loadPolicyData, PolicyFileError } from "../policies/load_policy.ts";

/** What a caller may do: read; operate runs; sign approvals; everything. */
export const Role = z.enum(["viewer", "operator", "approver", "admin"]);
/** A caller's role. */
export type Role = z.infer<typeof Role>;

/** What a route needs of its caller's role. */
export type Ability = "read" | "operate" | "approve" | "admin";

const ABILITIES: Record<Role, readonly Ability[]> = {
  viewer: ["read"],
  operator: ["read", "operate"],
  approver: ["read", "approve"],
  admin: ["read", "operate", "approve", "admin"],
};

/** True when `role` may do what `ability` names. */
export function allows(role: Role, ability: Ability): boolean {
  return ABILITIES[role].includes(ability);
}

/** One token: the token itself, or its SHA-256 (hex) so that the file holds no secret. */
export const TokenEntry = z.strictObject({
  name: z.string().min(1).max(64),
  role: Role,
  token: z.string().min(16, "a token is at least 16 characters").optional(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, "a SHA-256 in lowercase hex").optional(),
}).refine((t) => (t.token === undefined) !== (t.sha256 === undefined), {
  message: "give either token or sha256, not both",
});

/** A tokens file: `{"tokens": [{"name": "ci", "role": "admin", "token": "…"}]}`. */
export const TokensFile = z.strictObject({ tokens: z.array(TokenEntry).min(1) });

/** Who made a request. */
export interface Caller {
  name: string;
  role: Role;
}

const digest = (token: string) => new Uint8Array(hash("sha256", token, "buffer"));
const fromHex = (hex: string) => Uint8Array.from(hex.match(/../g)!, (b) => parseInt(b, 16));

/**
 * The bearer tokens a server accepts. A presented token is compared as its SHA-256 with each
 * entry's, with `timingSafeEqual` and without stopping at a match, so timing tells neither a
 * token's content, its length, nor which entry matched.
 */
export class TokenTable {
  private constructor(readonly entries: { name: string; role: Role; digest: Uint8Array }[]) {}

  /** Reads and validates a tokens file; every problem names the file and the path inside it. */
  static async load(file: string): Promise<TokenTable> {
    const data = await loadPolicyData(file, TokensFile, "", "tokens file");
    const names = data.tokens.map((t) => t.name);
    const twice = names.find((n, i) => names.indexOf(n) !== i);
    if (twice) throw new PolicyFileError(file, [`two tokens are named "${twice}"`], "tokens file");
    return new TokenTable(data.tokens.map((t) => ({
      name: t.name,
      role: t.role,
      digest: t.sha256 ? fromHex(t.sha256) : digest(t.token!),
    })));
  }

  /** A table of one token (a server's own, made when it started without a tokens file). */
  static single(name: string, role: Role, token: string): TokenTable {
    return new TokenTable([{ name, role, digest: digest(token) }]);
  }

  /** The caller an `Authorization: Bearer …` header names, or undefined. */
  authenticate(header: string | undefined): Caller | undefined {
    const m = header?.match(/^Bearer\s+(\S+)\s*$/i);
    if (!m) return undefined;
    const presented = digest(m[1]);
    let found: Caller | undefined;
    for (const e of this.entries) {
      if (timingSafeEqual(presented, e.digest) && !found) found = { name: e.name, role: e.role };
    }
    return found;
  }
}
