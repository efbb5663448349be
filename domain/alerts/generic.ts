import { createHash } from "node:crypto";
import { z } from "zod";
import { formatZodError } from "../problems.js";
import { storableInstant, storableText } from "../input.js";
import { checkedAndRedacted, InvalidAlertError, workloadOf, type Alert } from "./alert.js";
import { targetFromLabels, type TargetMapping } from "./target.js";
import { ALERT_BOUNDS, AnnotationMapSchema, identifier, LabelMapSchema } from "./bounds.js";

/**
 * Suture's own alert shape (`POST /v1/alerts`), for sources that are neither Alertmanager nor
 * PagerDuty. Documented in docs/api.md.
 */
export const GenericAlertSchema = z
  .object({
    name: identifier("an alert name"),
    /** The workload; optional when the labels name the target (namespace with deployment, pod, …). */
    service: identifier("a workload name").optional(),
    /** No default: an alert without one is resolved by looking its workload up, or escalated with the reason. */
    namespace: identifier("a namespace").optional(),
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
export function parseGenericAlert(body: unknown, receivedAt: Date = new Date(), mapping?: TargetMapping): Alert {
  const parsed = GenericAlertSchema.safeParse(body);
  if (!parsed.success) throw new InvalidAlertError(formatZodError(parsed.error));
  const a = parsed.data;
  const labels: Record<string, string> = {
    ...a.labels,
    alertname: a.name,
    ...(a.service !== undefined ? { service: a.service } : {}),
    ...(a.namespace !== undefined ? { namespace: a.namespace } : {}),
    severity: a.severity,
  };
  const target = targetFromLabels(labels, mapping);
  const canonical = Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k] ?? ""}`)
    .join(",");
  const alert: Alert = {
    name: a.name,
    status: a.status,
    ...workloadOf(target),
    severity: a.severity,
    labels,
    annotations: { ...a.annotations, ...(a.summary !== undefined ? { summary: a.summary } : {}) },
    startsAt: a.startsAt ?? receivedAt.toISOString(),
    fingerprint: a.fingerprint ?? createHash("sha256").update(canonical).digest("hex").slice(0, 16),
    source: "generic",
    target,
  };
  return checkedAndRedacted(alert, { name: "name", severity: "severity", fingerprint: "fingerprint" });
}
