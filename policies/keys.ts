import { encodeBase64Url } from "./base64url.ts";
import { z } from "zod";
import { join } from "node:path";
import { TroupeError } from "../runtime/errors.ts";
import { readTextLimited } from "../runtime/read_limited.ts";

/** A key file is a few hundred bytes, a trust list a line per key: far larger is neither. */
const MAX_KEY_FILE_BYTES = 64 * 1024;
const MAX_TRUST_LIST_BYTES = 4 * 1024 * 1024;

/** What a key's holder may do: approve, operate or administer. */
export const Role = z.enum(["approver", "operator", "admin"]);
/** What a key's holder may do: approve, operate or administer. */
export type Role = z.infer<typeof Role>;

/** A public key and the role its holder plays: one entry of the trust list. */
export const TrustedKey = z.strictObject({
  name: z.string().min(1),
  role: Role,
  publicKey: z.string().min(1),
});
/** One entry of the trust list. */
export type TrustedKey = z.infer<typeof TrustedKey>;
/** The public keys `trust.json` trusts, each with its role. */
export const TrustList = z.strictObject({ keys: z.array(TrustedKey) });
/** The public keys `trust.json` trusts, each with its role. */
export type TrustList = z.infer<typeof TrustList>;

/** A private key file: the Ed25519 private JWK with its name and role. */
export const KeyFile = z.strictObject({
  name: z.string().min(1),
  role: Role,
  jwk: z.object({ kty: z.literal("OKP"), crv: z.literal("Ed25519"), x: z.string(), d: z.string() })
    .passthrough(),
});
/** A private key file's contents. */
export type KeyFile = z.infer<typeof KeyFile>;

/** The key folder unless `--keys` says otherwise. */
export const DEFAULT_KEY_DIR = ".troupe/keys";
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Reads `DIR/trust.json`; an empty list when there is none. */
export async function readTrustList(dir: string): Promise<TrustList> {
  try {
    return TrustList.parse(
      JSON.parse(await readTextLimited(join(dir, "trust.json"), MAX_TRUST_LIST_BYTES)),
    );
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return { keys: [] };
    throw new TroupeError(
      "invalid_file",
      `${join(dir, "trust.json")} is not a valid trust list: ${(err as Error).message}`,
    );
  }
}

/**
 * Creates an Ed25519 key pair: the private key goes to DIR/NAME.key.json (readable by its owner
 * only), the public key and role join DIR/trust.json.
 */
export async function newKey(
  dir: string,
  name: string,
  role: Role,
): Promise<{ keyFile: string; trustFile: string }> {
  if (!NAME.test(name)) {
    throw new TroupeError(
      "invalid_spec",
      `a key name is 1-64 letters, digits, '.', '_' or '-', not "${name}"`,
    );
  }
  await Deno.mkdir(dir, { recursive: true });
  const trust = await readTrustList(dir);
  if (trust.keys.some((k) => k.name === name)) {
    throw new TroupeError("invalid_spec", `a key named "${name}" is already trusted in ${dir}`);
  }
  const pair = await crypto.subtle.generateKey({ name: "Ed25519" }, true, [
    "sign",
    "verify",
  ]) as CryptoKeyPair;
  const jwk = await crypto.subtle.exportKey("jwk", pair.privateKey);
  const keyFile = join(dir, `${name}.key.json`);
  await Deno.writeTextFile(keyFile, JSON.stringify({ name, role, jwk }, null, 2), {
    mode: 0o600,
    createNew: true,
  });
  trust.keys.push({ name, role, publicKey: jwk.x! });
  const trustFile = join(dir, "trust.json");
  await Deno.writeTextFile(trustFile, JSON.stringify(trust, null, 2));
  return { keyFile, trustFile };
}

/** Reads a private key file made by `deno task keys new`. */
export async function readKeyFile(file: string): Promise<KeyFile> {
  try {
    return KeyFile.parse(JSON.parse(await readTextLimited(file, MAX_KEY_FILE_BYTES)));
  } catch (err) {
    throw new TroupeError(
      "invalid_file",
      `${file} is not a troupe key file: ${(err as Error).message}`,
    );
  }
}

export function importPrivateKey(key: KeyFile): Promise<CryptoKey> {
  return crypto.subtle.importKey("jwk", key.jwk as JsonWebKey, { name: "Ed25519" }, false, [
    "sign",
  ]);
}

export function importPublicKey(publicKey: string): Promise<CryptoKey> {
  return crypto.subtle.importKey(
    "jwk",
    { kty: "OKP", crv: "Ed25519", x: publicKey },
    { name: "Ed25519" },
    false,
    [
      "verify",
    ],
  );
}

export async function sign(key: KeyFile, data: string): Promise<string> {
  const signature = await crypto.subtle.sign(
    "Ed25519",
    await importPrivateKey(key),
    new TextEncoder().encode(data),
  );
  return encodeBase64Url(new Uint8Array(signature));
}
