/**
 * Patterns of credentials that must not be committed; the assessor and the reviewer use them.
 * `body`, when given, must match the next line too: a key header alone (in a test, a doc) is not
 * a key.
 */
/** Shows where a secret is without repeating it. */
export function mask(text: string): string {
  return text.length <= 8 ? "****" : `${text.slice(0, 4)}…${"*".repeat(4)}`;
}

/** Bits per character: random keys score high, words and placeholders low. */
function entropy(text: string): number {
  const counts = new Map<string, number>();
  for (const c of text) counts.set(c, (counts.get(c) ?? 0) + 1);
  let bits = 0;
  for (const n of counts.values()) bits -= (n / text.length) * Math.log2(n / text.length);
  return bits;
}

/** Values that stand in for a credential in docs and tests. */
export const PLACEHOLDER =
  /example|sample|placeholder|changeme|change_me|dummy|fake|mock|test|invalid|your|xxx|\*\*\*|secret|password|token|<|\$\{|\{\{/i;

/**
 * A credential pattern. `body`, when given, must match the next line too; `value`, when given,
 * must accept the matched value.
 */
export interface SecretPattern {
  name: string;
  pattern: RegExp;
  body?: RegExp;
  /** Given the pattern's value group (its second, else first) and its first. */
  value?: (value: string, key: string) => boolean;
}

export const SECRETS: SecretPattern[] = [
  { name: "AWS access key id", pattern: /\b(AKIA|ASIA)[0-9A-Z]{16}\b/ },
  {
    name: "AWS secret access key",
    pattern: /aws_secret_access_key\s*[:=]\s*["']?[A-Za-z0-9/+]{40}/i,
  },
  {
    name: "private key",
    pattern: /-----BEGIN (RSA |EC |DSA |OPENSSH |PGP )?PRIVATE KEY( BLOCK)?-----/,
    body: /^\s*[A-Za-z0-9+/]{32,}={0,2}\s*$/,
  },
  { name: "GitHub token", pattern: /\bgh[pousr]_[A-Za-z0-9]{36,}\b/ },
  { name: "Slack token", pattern: /\bxox[baprs]-[A-Za-z0-9-]{10,}/ },
  { name: "Google API key", pattern: /\bAIza[0-9A-Za-z_-]{35}\b/ },
  { name: "Stripe secret key", pattern: /\bsk_live_[0-9a-zA-Z]{24,}/ },
  {
    // A password is one whatever it looks like, unless it is a placeholder ('your-password');
    // a token, secret or API key only when random enough to be a real one (3.5 bits a
    // character, as generic-secret scanners measure): docs and tests are full of 'secret123'.
    // The name may carry a prefix (`SONAR_TOKEN`, `DB_PASSWORD`, `OPENAI_API_KEY`).
    name: "hard-coded credential",
    pattern:
      /(?<![A-Za-z0-9])(password|passwd|secret|api[_-]?key|token)\s*[:=]\s*["']([^"'\s]{8,})["']/i,
    value: (v, key) => !PLACEHOLDER.test(v) && (/^pass/i.test(key) || entropy(v) >= 3.5),
  },
  {
    // Unquoted, as in YAML and .env files: only a value that looks generated (letters and digits,
    // random enough) to the end of the line, so code (`password = config.db`) is not one.
    name: "hard-coded credential",
    pattern:
      /(?<![A-Za-z0-9])(password|passwd|secret|api[_-]?key|token)\s*[:=]\s*([A-Za-z0-9_\-+/=]{16,})\s*$/i,
    value: (v) => !PLACEHOLDER.test(v) && /\d/.test(v) && /[A-Za-z]/.test(v) && entropy(v) >= 3.5,
  },
];

/** The first credential on `line` (with the line after it, for patterns with a body). */
export function secretOn(
  line: string,
  next = "",
): { name: string; match: string } | undefined {
  for (const s of SECRETS) {
    const m = line.match(s.pattern);
    if (!m || (s.body && !s.body.test(next))) continue;
    if (s.value && !s.value(m[2] ?? m[1] ?? m[0], m[1] ?? "")) continue;
    return { name: s.name, match: m[0] };
  }
  return undefined;
}
