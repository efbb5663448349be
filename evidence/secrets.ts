/**
 * Detects credentials printed in log lines, and redacts them so evidence, briefs and the
 * database never store the secret itself.
 */
const SECRET_PATTERNS: Array<{ kind: string; pattern: RegExp }> = [
  { kind: "aws-access-key", pattern: /\bAKIA[0-9A-Z]{16}\b/g },
  { kind: "private-key", pattern: /-----BEGIN [A-Z ]*PRIVATE KEY-----[^-]*/g },
  {
    kind: "key-value-secret",
    pattern: /\b((?:[a-z0-9_]*_)?(?:password|passwd|secret|api[_-]?key|access[_-]?token|auth[_-]?token|credentials?))(["']?\s*[=:]\s*["']?)([^\s"',]{8,})/gi,
  },
  { kind: "bearer-token", pattern: /\b(Bearer\s+)([A-Za-z0-9._~+/-]{20,}=*)/g },
];

/** Kinds of secrets found in a line (empty when none). */
export function secretKinds(line: string): string[] {
  return SECRET_PATTERNS.filter(({ pattern }) => new RegExp(pattern.source, pattern.flags).test(line)).map((p) => p.kind);
}

/** The line with every detected secret value replaced by `[REDACTED]`. */
export function redactSecrets(line: string): string {
  let out = line;
  for (const { kind, pattern } of SECRET_PATTERNS) {
    const re = new RegExp(pattern.source, pattern.flags);
    out =
      kind === "key-value-secret"
        ? out.replace(re, (_m, key: string, sep: string) => `${key}${sep}[REDACTED]`)
        : kind === "bearer-token"
          ? out.replace(re, (_m, prefix: string) => `${prefix}[REDACTED]`)
          : out.replace(re, "[REDACTED]");
  }
  return out;
}
