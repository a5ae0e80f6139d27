/** A JavaScript regular expression; a leading `(?i)` makes it case-insensitive, as in RE2. */
export function compilePattern(source: string): RegExp {
  return source.startsWith("(?i)") ? new RegExp(source.slice(4), "i") : new RegExp(source);
}
