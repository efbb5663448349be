import type { LogLine } from "../environments/adapter.js";
import type { LogSignature } from "../domain/model.js";

/**
 * Masks that turn a log message into its template. Order matters: the most specific shapes
 * (timestamps, UUIDs, addresses) go before bare numbers so they collapse to one token.
 */
const MASKS: Array<[RegExp, string]> = [
  [/\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?\b/g, "<ts>"],
  [/\b\d{2}:\d{2}:\d{2}(?:[.,]\d+)?\b/g, "<time>"],
  [/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, "<uuid>"],
  [/\b(?:sha256:)?[0-9a-f]{12,}\b/gi, "<hex>"],
  [/\b0x[0-9a-f]+\b/gi, "<hex>"],
  [/\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b/g, "<ip>"],
  [/\b[a-z0-9]+(?:-[a-z0-9]+)*-[a-z0-9]{8,10}-[a-z0-9]{5}\b/gi, "<pod>"],
  [/(["'])(?:(?=(\\?))\2.)*?\1/g, "<str>"],
  [/\b(?:blk|req|trace|span|user|order|id)[_-]?-?\d+\b/gi, "<id>"],
  [/-?\b\d+(?:\.\d+)?(?:ms|s|m|h|Mi|Gi|MiB|GiB|KB|MB|GB|%)?\b/g, "<num>"],
];

/** Reduces a log message to its template: ids, numbers, hashes, addresses and timestamps masked. */
export function normalizeLogMessage(message: string): string {
  let template = message.trim();
  for (const [pattern, token] of MASKS) template = template.replace(pattern, token);
  return template.replace(/\s+/g, " ");
}

const LEVEL_RANK: Record<LogLine["level"], number> = { debug: 0, info: 1, warn: 2, error: 3, fatal: 4 };

/**
 * Groups log lines by template, keeping warnings and errors (the lines that explain faults),
 * most frequent first.
 */
export function extractSignatures(lines: LogLine[], minLevel: LogLine["level"] = "warn"): LogSignature[] {
  const groups = new Map<string, LogSignature>();
  for (const line of lines) {
    if (LEVEL_RANK[line.level] < LEVEL_RANK[minLevel]) continue;
    const template = normalizeLogMessage(line.message);
    const key = `${line.level}|${template}`;
    const existing = groups.get(key);
    if (existing === undefined) {
      groups.set(key, { template, level: line.level, count: 1, firstSeen: line.t, lastSeen: line.t, sample: line.message });
    } else {
      existing.count += 1;
      existing.firstSeen = Math.min(existing.firstSeen, line.t);
      existing.lastSeen = Math.max(existing.lastSeen, line.t);
    }
  }
  return [...groups.values()].sort((a, b) => b.count - a.count || a.template.localeCompare(b.template));
}
