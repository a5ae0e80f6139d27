/**
 * Patterns of credentials that must not be committed; the assessor and the reviewer use them.
 * `body`, when given, must match the next line too: a key header alone (in a test, a doc) is not
 * a key.
 */
/** Shows where a secret is without repeating it. */
export function mask(text: string): string {
  return text.length <= 8 ? "****" : `${text.slice(0, 4)}…${"*".repeat(4)}`;
}

export const SECRETS: { name: string; pattern: RegExp; body?: RegExp }[] = [
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
    name: "hard-coded credential",
    pattern: /\b(password|passwd|secret|api[_-]?key|token)\s*[:=]\s*["'][^"'\s]{8,}["']/i,
  },
];
