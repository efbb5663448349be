/**
 * Detects credentials in text (log lines, alert annotations, request bodies) and redacts them, so
 * that nothing Suture stores, exports, logs or sends holds the secret itself. Whoever redacts
 * also records which kinds it found (see `LogLine.redactedSecrets`), so a leak is still
 * recognised as one once the text that revealed it is redacted.
 */
const SECRET_PATTERNS: Array<{ kind: string; pattern: RegExp }> = [
  { kind: "aws-access-key", pattern: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g },
  { kind: "private-key", pattern: /-----BEGIN [A-Z ]*PRIVATE KEY-----[^-"]*(?:-----END [A-Z ]*PRIVATE KEY-----)?/g },
  {
    kind: "key-value-secret",
    pattern: /\b((?:[a-z0-9_]*_)?(?:password|passwd|secret|api[_-]?key|access[_-]?token|auth[_-]?token|credentials?))(["']?\s*[=:]\s*["']?)(?!\[REDACTED\])([^\s"',]{8,})/gi,
  },
  // Vendor tokens with a fixed prefix are secrets wherever they appear (GitHub, GitLab, Slack, Stripe live keys).
  { kind: "api-token", pattern: /\b(?:gh[pousr]_[A-Za-z0-9]{36,}|glpat-[A-Za-z0-9_-]{20,}|xox[abprs]-[A-Za-z0-9-]{10,}|sk_live_[A-Za-z0-9]{16,})\b/g },
  { kind: "bearer-token", pattern: /\b(Bearer\s+)(?!\[REDACTED\])([A-Za-z0-9._~+/-]{20,}=*)/g },
];

/** A word every secret pattern and credential key contains. */
const MAY_HOLD_SECRET = /password|passwd|secret|api[_-]?key|token|credential|AKIA|ASIA|PRIVATE KEY|Bearer|gh[pousr]_|glpat-|xox[abprs]-|sk_live_/i;

/** What replaces a secret value. */
export const REDACTED = "[REDACTED]";

/** Kinds of secrets in a line (empty when none). */
export function secretKinds(line: string): string[] {
  return SECRET_PATTERNS.filter(({ pattern }) => new RegExp(pattern.source, pattern.flags).test(line)).map((p) => p.kind);
}

/** The text with every detected secret value replaced by `[REDACTED]`. */
export function redactSecrets(line: string): string {
  let out = line;
  for (const { kind, pattern } of SECRET_PATTERNS) {
    const re = new RegExp(pattern.source, pattern.flags);
    const marker = REDACTED;
    out =
      kind === "key-value-secret"
        ? out.replace(re, (_m, key: string, sep: string) => `${key}${sep}${marker}`)
        : kind === "bearer-token"
          ? out.replace(re, (_m, prefix: string) => `${prefix}${marker}`)
          : out.replace(re, marker);
  }
  return out;
}

/** Whether a key names a credential (`api_key`, `DB_PASSWORD`, `authToken`…): its value is a secret whatever it looks like. */
function isSecretKey(key: string): boolean {
  return /(?:password|passwd|secret|api[_-]?key|access[_-]?token|auth[_-]?token|credentials?)$/i.test(key);
}

/**
 * A deep copy of a JSON-like value with every string redacted, and the values of keys that name
 * credentials replaced whole (`{"api_key": "abc"}` has no `key=value` text to recognise).
 */
export function redactValue<T>(value: T): T {
  return redactAny(value) as T;
}

function redactAny(value: unknown): unknown {
  if (typeof value === "string") return redactSecrets(value);
  if (Array.isArray(value)) return value.map(redactAny);
  if (value === null || typeof value !== "object") return value;
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = isSecretKey(k) && isFilled(v) ? REDACTED : redactAny(v);
  // An environment variable as Kubernetes lists it: {name: "DB_PASSWORD", value: "…"}.
  if (typeof out["name"] === "string" && isSecretKey(out["name"]) && isFilled(out["value"])) out["value"] = REDACTED;
  return out;
}

function isFilled(v: unknown): boolean {
  return (typeof v === "string" && v !== "" && v !== REDACTED) || typeof v === "number";
}

/**
 * A JSON request body with its secrets redacted: the text exactly as sent when it holds none
 * (bodies are stored verbatim), else the redacted document re-serialized. Text that is not JSON
 * is redacted as text.
 */
export function redactJsonText(raw: string): string {
  // Every pattern and credential key needs one of these words: most bodies are returned untouched at once.
  if (!MAY_HOLD_SECRET.test(raw)) return raw;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return redactSecrets(raw);
  }
  const redacted = redactValue(parsed);
  return JSON.stringify(redacted) === JSON.stringify(parsed) ? raw : JSON.stringify(redacted);
}
