/** A short JSON rendering of a value for a message. */
function show(value: unknown): string {
  if (value === undefined) return "(unset)";
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function collect(path: string, a: unknown, b: unknown, out: string[]): void {
  if (JSON.stringify(a) === JSON.stringify(b)) return;
  const bothObjects = a !== null && b !== null && typeof a === "object" && typeof b === "object" && Array.isArray(a) === Array.isArray(b);
  if (!bothObjects) {
    out.push(`${path}: ${show(a)} → ${show(b)}`);
    return;
  }
  const left = a as Record<string, unknown>;
  const right = b as Record<string, unknown>;
  for (const key of [...new Set([...Object.keys(left), ...Object.keys(right)])].sort()) {
    collect(Array.isArray(a) ? `${path}[${key}]` : path === "" ? key : `${path}.${key}`, left[key], right[key], out);
  }
}

/** The leaf paths where two JSON values differ, as `spec.replicas: 3 → 5` (at most `limit`, then "…"). */
export function describeDifferences(before: unknown, after: unknown, limit = 5): string {
  const out: string[] = [];
  collect("", before, after, out);
  if (out.length === 0) return "no field Suture compares changed";
  return out.length > limit ? `${out.slice(0, limit).join("; ")}; … ${out.length - limit} more` : out.join("; ");
}

/**
 * What changed on a Kubernetes object between two reads: its spec (or data), labels and
 * annotations, or only its status, with the resourceVersions either side.
 */
export function describeObjectChange(
  before: { metadata?: { resourceVersion?: string; labels?: unknown; annotations?: unknown }; spec?: unknown; data?: unknown },
  after: { metadata?: { resourceVersion?: string; labels?: unknown; annotations?: unknown }; spec?: unknown; data?: unknown },
): string {
  const pick = (o: typeof before): unknown => JSON.parse(JSON.stringify({ metadata: { labels: o.metadata?.labels, annotations: o.metadata?.annotations }, spec: o.spec, data: o.data })) as unknown;
  const versions = `resourceVersion ${before.metadata?.resourceVersion ?? "?"} → ${after.metadata?.resourceVersion ?? "?"}`;
  const fields = describeDifferences(pick(before), pick(after));
  return fields === "no field Suture compares changed" ? `${versions}; only its status changed` : `${versions}: ${fields}`;
}
