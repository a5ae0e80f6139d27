import picomatch from "picomatch";

export type Matcher = (value: string) => boolean;

const cache = new Map<string, Matcher>();

/** A matcher for one glob or a list of them (`*` within a segment, `**` across), compiled once. */
export function globs(patterns: string | string[]): Matcher {
  const key = JSON.stringify(patterns);
  const cached = cache.get(key);
  if (cached) return cached;
  const m = picomatch(patterns, { dot: true });
  cache.set(key, m);
  return m;
}
