import { createHash } from "node:crypto";
import { z } from "zod";
import { formatZodError } from "../problems.js";
import { storableInstant, storableText } from "../input.js";
import { checkedAndRedacted, InvalidAlertError, type Alert } from "./alert.js";
import { ALERT_BOUNDS, AnnotationMapSchema, identifier, LabelMapSchema } from "./bounds.js";

/**
 * Suture's own alert shape (`POST /v1/alerts`), for sources that are neither Alertmanager nor
 * PagerDuty. Documented in docs/api.md.
 */
export const GenericAlertSchema = z
  .object({
    name: identifier("an alert name"),
    service: identifier("a workload name"),
    namespace: identifier("a namespace").default("prod"),
    status: z.enum(["firing", "resolved"]).default("firing"),
    severity: z.enum(["critical", "error", "warning", "info"]).default("warning"),
    summary: storableText(4096).optional(),
    labels: LabelMapSchema.default({}),
    annotations: AnnotationMapSchema.default({}),
    startsAt: storableInstant().optional(),
    /** Alerts with the same fingerprint are one problem; default: derived from name, service, namespace and labels. */
    fingerprint: storableText(ALERT_BOUNDS.fingerprint, "a fingerprint").min(1).optional(),
  })
  .strict();

/** A validated generic alert. */
export type GenericAlert = z.infer<typeof GenericAlertSchema>;

/** Validates and normalizes a generic alert. */
export function parseGenericAlert(body: unknown, receivedAt: Date = new Date()): Alert {
  const parsed = GenericAlertSchema.safeParse(body);
  if (!parsed.success) throw new InvalidAlertError(formatZodError(parsed.error));
  const a = parsed.data;
  const labels = { ...a.labels, alertname: a.name, service: a.service, namespace: a.namespace, severity: a.severity };
  const canonical = Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k as keyof typeof labels]}`)
    .join(",");
  const alert: Alert = {
    name: a.name,
    status: a.status,
    service: a.service,
    namespace: a.namespace,
    severity: a.severity,
    labels,
    annotations: { ...a.annotations, ...(a.summary !== undefined ? { summary: a.summary } : {}) },
    startsAt: a.startsAt ?? receivedAt.toISOString(),
    fingerprint: a.fingerprint ?? createHash("sha256").update(canonical).digest("hex").slice(0, 16),
    source: "generic",
  };
  return checkedAndRedacted(alert, { name: "name", service: "service", namespace: "namespace", severity: "severity", fingerprint: "fingerprint" });
}
