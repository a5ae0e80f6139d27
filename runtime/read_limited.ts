import { TroupeError } from "./errors.ts";

/**
 * Reads a text file of at most `maxBytes`, refusing a larger one without reading it all: files
 * that other people drop into troupe's folders (votes, uploads) may be of any size.
 */
export async function readTextLimited(path: string, maxBytes: number): Promise<string> {
  using file = await Deno.open(path, { read: true });
  const buffer = new Uint8Array(maxBytes + 1);
  let filled = 0;
  while (filled < buffer.length) {
    const n = await file.read(buffer.subarray(filled));
    if (n === null) break;
    filled += n;
  }
  if (filled > maxBytes) {
    throw new TroupeError(
      "too_large",
      `${path} is larger than ${maxBytes} bytes; it was not read`,
      { path, maxBytes },
    );
  }
  return new TextDecoder().decode(buffer.subarray(0, filled));
}
