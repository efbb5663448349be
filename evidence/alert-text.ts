import type { Alert } from "../domain/alerts/alert.js";
import type { Evidence } from "../domain/model.js";
import { redactSecrets } from "../domain/secrets.js";
import { errorClass } from "./signatures.js";

/** Fact keys derived from the alert's own words: untrusted text, evidence only, never a tool parameter. */
export const UNTRUSTED_ALERT_FACTS = ["alert.text", "alert.runbook"] as const;

/** Whether a fact key holds text the alert's sender chose (its words, its runbook link, its labels). */
export function isUntrustedAlertFact(key: string): boolean {
  return (UNTRUSTED_ALERT_FACTS as readonly string[]).includes(key) || key.startsWith("alert.label.");
}

/**
 * Alert-level cause words, one table for every alert field. Case-insensitive and word-bounded so
 * "hpa" does not match inside "shpa" and "node" not inside "nodejs"; alert names are split into
 * words first (KubeHpaMaxedOut → "Kube Hpa Maxed Out").
 */
export const ALERT_CAUSE_WORDS: ReadonlyArray<readonly [string, RegExp]> = [
  ["latency", /\b(latency|latencies|slow(?:ness)?|response times?|p9[59]|p99\.9|durations?)\b/i],
  ["errors", /\b(5xx|http 5\d\d|5\d\d (?:errors?|responses?|status)|error rates?|errors?|failure rates?|failed requests|erroring|errorbudget|error budget|burn rate)\b/i],
  ["saturation", /\b(cpu|throttl(?:ed|ing)?|saturat(?:ed|ion|ing)|load average|high load)\b/i],
  ["memory", /\b(memory|heap|rss|swap|oom(?:killed)?)\b/i],
  ["disk", /\b(disks?|filesystems?|file systems?|volumes?|inodes?|(?:disk|storage|free) space|out of space|persistentvolume\w*|pvc)\b/i],
  [
    "lag",
    /\b(lag(?:ging)?|backlog|queue (?:depth|size|length|messages)|(?:ready|unacked|unacknowledged|queued|pending) messages|messages (?:ready|unacked|unacknowledged|queued|pending)|behind|consumer groups?)\b/i,
  ],
  ["crashloop", /\b(crash ?loop(?:ing|backoff)?|crash(?:ed|es|ing)?|restart(?:s|ing|ed)?|flapping restarts)\b/i],
  ["not_ready", /\b(not ready|notready|unready|readiness)\b/i],
  ["replicas", /\b(replicas?|unavailable|available pods|rollout stuck|generation mismatch)\b/i],
  ["autoscaler", /\b(hpa|autoscal(?:er|ing)|horizontal ?pod ?autoscaler|maxed(?: out)?|max(?:imum)? replicas|scale inability|scaling limited)\b/i],
  ["quota", /\b(quotas?|resource ?quota|limit ?range|exceeded (?:its|the) quota)\b/i],
  ["certificate", /\b(certificates?|certs?|x509|tls|ssl)\b/i],
  ["node", /\b(nodes?|kubelet|host|instance down|node ?not ?ready)\b/i],
  ["scheduling", /\b(pending|unschedulable|failed ?scheduling|cannot be scheduled|insufficient (?:cpu|memory))\b/i],
  ["security", /\b(unauthori[sz]ed access|brute[- ]?force|credential stuffing|port scan(?:ning)?|scann(?:ing|er)|intrusion|suspicious (?:login|activity|access)|login failures?|failed logins?)\b/i],
];

/** Annotation fields read, in the order a class is attributed to its first field. */
const FIELDS = ["alertname", "summary", "description", "message"] as const;

/** Longest excerpt kept of an alert field. */
export const EXCERPT_MAX = 160;

/** "KubeHpaMaxedOut" → "Kube Hpa Maxed Out"; "http_5xx_rate" → "http 5xx rate". */
export function splitAlertName(name: string): string {
  return name
    .replace(/[_:.-]+/g, " ")
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1 $2");
}

/** The field's text around the match, secrets redacted, newlines collapsed, at most EXCERPT_MAX characters. */
function excerpt(text: string, at: number): string {
  const flat = redactSecrets(text).replace(/\s+/g, " ").trim();
  if (flat.length <= EXCERPT_MAX) return flat;
  // Centre the window on the match so the excerpt shows the words that were recognised.
  const start = Math.max(0, Math.min(at - Math.floor(EXCERPT_MAX / 3), flat.length - EXCERPT_MAX));
  return flat.slice(start, start + EXCERPT_MAX);
}

/** Every cause class the text names: its log error class (signatures.ts) first, then the alert-level words. */
export function alertTextClasses(text: string): Array<{ cls: string; index: number }> {
  const found: Array<{ cls: string; index: number }> = [];
  const logClass = errorClass(text);
  if (logClass !== "") found.push({ cls: logClass, index: 0 });
  for (const [cls, pattern] of ALERT_CAUSE_WORDS) {
    const m = pattern.exec(text);
    if (m !== null && !found.some((f) => f.cls === cls)) found.push({ cls, index: m.index });
  }
  return found;
}

/** A runbook's name from its URL: the `#anchor`, else the last path segment without its extension. */
export function runbookName(url: string): { name: string; url: string } | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url.trim());
  } catch {
    return undefined;
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") return undefined;
  const anchor = decodeURIComponent(parsed.hash.replace(/^#/, ""));
  const last = decodeURIComponent(
    parsed.pathname
      .split("/")
      .filter((s) => s !== "")
      .pop() ?? "",
  ).replace(/\.(md|markdown|html?|adoc|rst|txt)$/i, "");
  const name = anchor !== "" ? anchor : last;
  // Only a plain name: the value is shown in briefs, and anything else is not a runbook's name.
  if (!/^[\w.-]{1,100}$/.test(name)) return undefined;
  // Host and path only: a query string may carry a token.
  return { name, url: redactSecrets(`${parsed.host}${parsed.pathname}`).slice(0, 300) };
}

type AlertFact = Omit<Evidence, "id">;

/**
 * Facts from the alert's own words (`alert.text`, one per cause class recognised, with the field
 * and a redacted excerpt) and its runbook link (`alert.runbook`). Whoever configured the alert
 * wrote these words, so they are untrusted: evidence for reasoning and briefs, never a tool
 * parameter (the runbook reasoner refuses rules that would use them so).
 */
export function alertTextFacts(alert: Alert): AlertFact[] {
  const facts: AlertFact[] = [];
  const seen = new Set<string>();
  for (const field of FIELDS) {
    const raw = field === "alertname" ? splitAlertName(alert.labels["alertname"] ?? alert.name) : alert.annotations[field];
    if (raw === undefined || raw.trim() === "") continue;
    for (const { cls, index } of alertTextClasses(raw)) {
      if (seen.has(cls)) continue;
      seen.add(cls);
      const words = excerpt(raw, index);
      facts.push({
        key: "alert.text",
        service: alert.service,
        value: cls,
        summary: `alert ${field} speaks of ${cls} (untrusted text): "${words}"`,
        attrs: { field, excerpt: words },
      });
    }
  }
  const url = alert.annotations["runbook_url"];
  const runbook = url !== undefined ? runbookName(url) : undefined;
  if (runbook !== undefined) {
    facts.push({
      key: "alert.runbook",
      service: alert.service,
      value: runbook.name,
      summary: `alert links runbook ${runbook.name} (${runbook.url})`,
      attrs: { url: runbook.url },
    });
  }
  return facts;
}
