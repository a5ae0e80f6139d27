import { hash } from "node:crypto";

/** The SHA-256 of bytes, or of a string's UTF-8, in hex: the one digest troupe names things by. */
export function sha256Hex(data: Uint8Array | string): string {
  // node:crypto's one-shot hash: synchronous, and faster than WebCrypto's digest for this.
  return hash("sha256", data, "hex");
}
