import { createHash } from "node:crypto";
import { z } from "zod";
import { AlertmanagerWebhookSchema, type AlertmanagerAlert, type AlertmanagerWebhook } from "./alertmanager.js";
import { normalizedProblems, type FieldSources } from "./bounds.js";
import { formatZodError, listProblems } from "../problems.js";
import { redactSecrets, redactValue } from "../secrets.js";
import { InvalidInputError } from "../errors.js";

/** The source-independent alert Suture reasons about. */
export const AlertSchema = z.object({
  name: z.string().min(1),
  status: z.enum(["firing", "resolved"]),
  service: z.string().min(1),
  namespace: z.string().default("prod"),
  severity: z.string().default("warning"),
  labels: z.record(z.string(), z.string()),
  annotations: z.record(z.string(), z.string()),
  startsAt: z.string(),
  fingerprint: z.string(),
  source: z.string(),
});

/** A normalized alert. */
export type Alert = z.infer<typeof AlertSchema>;

/** Labels that name the affected workload, most specific first. */
const SERVICE_LABELS = ["service", "app", "deployment", "job", "container"] as const;

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

function normalizeOne(alert: AlertmanagerAlert, webhook: AlertmanagerWebhook, index: number): Alert {
  const labels = { ...webhook.commonLabels, ...alert.labels };
  const annotations = { ...webhook.commonAnnotations, ...alert.annotations };
  const serviceLabel = SERVICE_LABELS.find((l) => labels[l] !== undefined);
  if (serviceLabel === undefined) {
    throw new InvalidAlertError(`alerts[${index}].labels: expected one of ${SERVICE_LABELS.join(", ")} naming the affected service`);
  }
  const name = labels["alertname"];
  if (name === undefined) {
    throw new InvalidAlertError(`alerts[${index}].labels.alertname: expected the alert's name`);
  }
  const normalized: Alert = {
    name,
    status: alert.status,
    service: labels[serviceLabel] ?? "",
    namespace: labels["namespace"] ?? "prod",
    severity: labels["severity"] ?? "warning",
    labels,
    annotations,
    startsAt: alert.startsAt,
    fingerprint: alert.fingerprint ?? fingerprintOf(labels),
    source: "alertmanager",
  };
  const at = `alerts[${index}]`;
  return checkedAndRedacted(normalized, {
    name: `${at}.labels.alertname`,
    service: `${at}.labels.${serviceLabel}`,
    namespace: `${at}.labels.namespace`,
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
export function parseAlertmanagerWebhook(body: unknown): { webhook: AlertmanagerWebhook; alerts: Alert[] } {
  const parsed = AlertmanagerWebhookSchema.safeParse(body);
  if (!parsed.success) throw new InvalidAlertError(formatZodError(parsed.error));
  const webhook = parsed.data;
  return { webhook, alerts: webhook.alerts.map((a, i) => normalizeOne(a, webhook, i)) };
}
