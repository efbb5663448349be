import type { V1LabelSelector } from "@kubernetes/client-node";

/** Labels of an object (metadata.labels), possibly absent. */
export type Labels = Record<string, string> | undefined;

/**
 * True when a label selector matches a set of labels, as the API server decides it: every
 * matchLabels pair and every matchExpressions requirement must hold; an empty selector matches all.
 */
export function selectorMatches(selector: V1LabelSelector | undefined, labels: Labels): boolean {
  if (selector === undefined) return false;
  const have = labels ?? {};
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) if (have[key] !== value) return false;
  for (const req of selector.matchExpressions ?? []) {
    const value = have[req.key];
    const values = req.values ?? [];
    switch (req.operator) {
      case "In":
        if (value === undefined || !values.includes(value)) return false;
        break;
      case "NotIn":
        if (value !== undefined && values.includes(value)) return false;
        break;
      case "Exists":
        if (value === undefined) return false;
        break;
      case "DoesNotExist":
        if (value !== undefined) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

/** True when a Service-style selector (plain key=value map) matches the labels; an empty one matches nothing. */
export function mapSelectorMatches(selector: Record<string, string> | undefined, labels: Labels): boolean {
  const entries = Object.entries(selector ?? {});
  if (entries.length === 0) return false;
  const have = labels ?? {};
  return entries.every(([key, value]) => have[key] === value);
}

/** The `labelSelector` query string for a label selector (`a=b,c in (d,e),!f`). */
export function selectorToQuery(selector: V1LabelSelector): string {
  const parts = Object.entries(selector.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const req of selector.matchExpressions ?? []) {
    const values = (req.values ?? []).join(",");
    if (req.operator === "In") parts.push(`${req.key} in (${values})`);
    else if (req.operator === "NotIn") parts.push(`${req.key} notin (${values})`);
    else if (req.operator === "Exists") parts.push(req.key);
    else if (req.operator === "DoesNotExist") parts.push(`!${req.key}`);
  }
  return parts.join(",");
}

/** The `labelSelector` query string for a Service-style selector map. */
export function mapToQuery(selector: Record<string, string>): string {
  return Object.entries(selector)
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
}
