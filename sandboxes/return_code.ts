/**
 * Extism's convention is that an export returning non-zero has failed (its runtime and
 * `extism call` say so), but the JS SDK drops the value an export returns. The SDK calls every
 * export through `WebAssembly.promising`, captured when it loads; this module wraps that
 * function first, so the sandbox worker can read what the last call returned. It must be
 * imported before `@extism/extism`.
 */
type Promising = (fn: unknown) => (...args: unknown[]) => Promise<unknown>;
const wasm = WebAssembly as unknown as { promising?: Promising };
const original = wasm.promising;
let last: unknown;

if (original) {
  wasm.promising = (fn) => {
    const call = original(fn);
    return async (...args) => (last = await call(...args));
  };
}

/** What the last export called returned, as a number (0 when it returned nothing). */
export function takeReturnCode(): number {
  const value = last;
  last = undefined;
  return typeof value === "number" || typeof value === "bigint" ? Number(value) : 0;
}

/**
 * The SDK uses `promising` only when a host function is async; this one is never imported by a
 * plugin (troupe refuses unknown imports before loading) and makes every call go through it.
 */
export const RETURN_CODE_PROBE = {
  "troupe:return-code": { probe: async () => await Promise.resolve(0n) },
};
