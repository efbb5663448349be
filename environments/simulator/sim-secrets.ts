/**
 * Credentials the simulated workloads hold. A simulated log line that prints one stores a
 * placeholder, and the value is put in only when the line is read (`tail_logs`): the world's
 * saved state is Suture's data (the environments table, exports), and like the rest of Suture's
 * data it must never hold a secret. What Suture reads, though, holds the real value, as a real
 * cluster's logs would, so redaction is tested against the real thing.
 */
const VALUES = {
  "reporting-db-password": "Xk29fPq7LmZ2wQ",
  "reporting-aws-access-key-id": "AKIAIOSFODNN7EXAMPLE",
} as const satisfies Record<string, string>;

/** The name of a simulated credential. */
type SecretName = keyof typeof VALUES;

const PLACEHOLDER = /\{\{sim-secret:([a-z0-9-]+)\}\}/g;

/** The placeholder a simulated log line stores for a secret (names as in VALUES). */
export function secretPlaceholder(name: SecretName): string {
  return `{{sim-secret:${name}}}`;
}

/** The text with every placeholder replaced by the secret it stands for. */
export function revealSecrets(text: string): string {
  return text.includes("{{sim-secret:") ? text.replace(PLACEHOLDER, (m, name: string) => (name in VALUES ? VALUES[name as SecretName] : m)) : text;
}
