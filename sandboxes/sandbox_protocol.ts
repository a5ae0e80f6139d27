import { z } from "zod";

/** Messages between a Sandbox and its worker; the worker's replies are checked on arrival. */

export interface LoadRequest {
  t: "load";
  name: string;
  wasm: Uint8Array;
  hostFunctions: string[];
  config: Record<string, string>;
  maxPages: number;
  maxVarBytes: number;
  maxOutputBytes: number;
  /** Fuel units each call starts with; absent when the module could not be metered. */
  fuel?: number;
  /** A `CallChannel`'s buffer: calls and answers that fit go through it (a thread only). */
  channel?: SharedArrayBuffer;
}
export type ToSandbox =
  | LoadRequest
  | { t: "call"; n: number; fn: string; input: Uint8Array }
  | { t: "host_result"; id: number; result: string };

const Kind = z.enum([
  "invalid_wasm",
  "missing_import",
  "memory_limit",
  "out_of_fuel",
  "output_limit",
  "trap",
  "plugin_error",
  "missing_export",
]);

export const FromSandbox = z.discriminatedUnion("t", [
  z.object({ t: z.literal("loaded") }),
  z.object({ t: z.literal("load_failed"), kind: Kind, message: z.string() }),
  z.object({ t: z.literal("done"), n: z.number(), output: z.instanceof(Uint8Array).nullable() }),
  z.object({ t: z.literal("failed"), n: z.number(), kind: Kind, message: z.string() }),
  z.object({ t: z.literal("host"), id: z.number(), fn: z.string(), input: z.string() }),
  z.object({ t: z.literal("log"), level: z.string(), text: z.string() }),
]);
export type FromSandbox = z.infer<typeof FromSandbox>;
