import { Buffer } from "node:buffer";

/** base64url without padding, as in JWS; node:buffer does it, @std/encoding is not reachable. */
export function encodeBase64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("base64url");
}

export function decodeBase64Url(text: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(Buffer.from(text, "base64url"));
}
