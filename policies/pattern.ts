import { RE2JS } from "re2js";

/** A pattern from a user's file, matched in time linear in the text. */
export interface Pattern {
  /** True when the pattern matches somewhere in `text`. */
  test(text: string): boolean;
  /** Every match in `text`, in order. */
  matches(text: string): string[];
}

/**
 * Compiles a pattern a user's file brought (a compliance pack's), with RE2's syntax and
 * semantics: a leading `(?i)` makes it case-insensitive. RE2 (`re2js`, a port without native
 * code) has no backtracking, so no pattern can take exponential time on hostile text; in
 * exchange it has no lookarounds or backreferences, and a pattern using them is refused.
 */
export function compilePattern(source: string): Pattern {
  const re = RE2JS.compile(source);
  return {
    test: (text) => re.test(text),
    matches: (text) => {
      const m = re.matcher(text);
      const all: string[] = [];
      while (m.find() && all.length < 10_000) all.push(m.group() ?? "");
      return all;
    },
  };
}
