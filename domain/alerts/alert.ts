import { createHash } from "node:crypto";
import { z } from "zod";
import { AlertmanagerWebhookSchema, type AlertmanagerAlert, type AlertmanagerWebhook } from "./alertmanager.js";
import { normalizedProblems, type FieldSources } from "./bounds.js";
import { formatZodError, listProblems } from "../problems.js";
import { redactSecrets, redactValue } from "../secrets.js";
import { InvalidInputError } from "../errors.js";
import { AlertTargetSchema, targetFromLabels, WORKLOAD_TARGET_KINDS, type AlertTarget, type TargetMapping } from "./target.js";

/** The source-independent alert Suture reasons about. */
export const AlertSchema = z.object({
  name: z.string().min(1),
  status: z.enum(["firing", "resolved"]),
  /** The workload the incident is about; empty until its target is resolved (see `target`). */
  service: z.string(),
  /** The target's namespace; empty when the alert names none. */
  namespace: z.string(),
  severity: z.string().default("warning"),
  labels: z.record(z.string(), z.string()),
  annotations: z.record(z.string(), z.string()),
  startsAt: z.string(),
  fingerprint: z.string(),
  source: z.string(),
  /** What the labels name and how it was resolved (absent on alerts stored before targets existed: `service` is the workload). */
  target: AlertTargetSchema.optional(),
});

/** A normalized alert. */
export type Alert = z.infer<typeof AlertSchema>;

/** Thrown when an alert payload does not match its schema; the message names the field. */
export class InvalidAlertError extends InvalidInputError {
  constructor(message: string) {
    super(message);
    this.name = "InvalidAlertError";
  }
}

function fingerprintOf(labels: Record<string, string>): string {
  const canonical = Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(",");
  return createHash("sha256").update(canonical).digest("hex").slice(0, 16);
}

/**
 * The alert with secrets in its labels and annotations redacted: a normalized alert is stored,
 * checkpointed, remembered and shown, so no credential may survive into it.
 */
export function redactAlert(alert: Alert): Alert {
  return { ...alert, name: redactSecrets(alert.name), labels: redactValue(alert.labels), annotations: redactValue(alert.annotations) };
}

/**
 * The workload and namespace an alert's target gives directly: a workload kind's name, and the
 * namespace whenever the target has one; empty until a lookup or never (a node, an unresolved target).
 */
export function workloadOf(target: AlertTarget): { service: string; namespace: string } {
  const direct = target.state === "resolved" && target.kind !== undefined && WORKLOAD_TARGET_KINDS.includes(target.kind);
  return { service: direct ? (target.name ?? "") : "", namespace: target.namespace ?? "" };
}

function normalizeOne(alert: AlertmanagerAlert, webhook: AlertmanagerWebhook, index: number, mapping: TargetMapping | undefined): Alert {
  const labels = { ...webhook.commonLabels, ...alert.labels };
  const annotations = { ...webhook.commonAnnotations, ...alert.annotations };
  const name = labels["alertname"];
  if (name === undefined) {
    throw new InvalidAlertError(`alerts[${index}].labels.alertname: expected the alert's name`);
  }
  const target = targetFromLabels(labels, mapping);
  const normalized: Alert = {
    name,
    status: alert.status,
    ...workloadOf(target),
    severity: labels["severity"] ?? "warning",
    labels,
    annotations,
    startsAt: alert.startsAt,
    fingerprint: alert.fingerprint ?? fingerprintOf(labels),
    source: "alertmanager",
    target,
  };
  const at = `alerts[${index}]`;
  return checkedAndRedacted(normalized, {
    name: `${at}.labels.alertname`,
    severity: `${at}.labels.severity`,
    fingerprint: `${at}.fingerprint`,
  });
}

/**
 * A normalized alert whose derived fields are within {@link ALERT_BOUNDS} (else an
 * InvalidAlertError naming the request fields they came from), with its secrets redacted.
 */
export function checkedAndRedacted(alert: Alert, sources: FieldSources): Alert {
  const problems = normalizedProblems(alert, sources);
  if (problems.length > 0) throw new InvalidAlertError(listProblems(problems));
  return redactAlert(alert);
}

/** Validates an Alertmanager v4 webhook body and normalizes each of its alerts. */
export function parseAlertmanagerWebhook(body: unknown, mapping?: TargetMapping): { webhook: AlertmanagerWebhook; alerts: Alert[] } {
  const parsed = AlertmanagerWebhookSchema.safeParse(body);
  if (!parsed.success) throw new InvalidAlertError(formatZodError(parsed.error));
  const webhook = parsed.data;
  return { webhook, alerts: webhook.alerts.map((a, i) => normalizeOne(a, webhook, i, mapping)) };
}
