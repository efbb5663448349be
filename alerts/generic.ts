import { createHash } from "node:crypto";
import { z } from "zod";
import { formatZodError } from "../config/errors.js";
import { InvalidAlertError, redactAlert, type Alert } from "./alert.js";

const labelMap = z.record(z.string().max(256, "expected a key of at most 256 characters"), z.string().max(4096, "expected a value of at most 4096 characters"));

/**
 * Suture's own alert shape (`POST /v1/alerts`), for sources that are neither Alertmanager nor
 * PagerDuty. Documented in docs/api.md.
 */
export const GenericAlertSchema = z
  .object({
    name: z.string().min(1).max(256),
    service: z.string().min(1).max(256),
    namespace: z.string().min(1).max(256).default("prod"),
    status: z.enum(["firing", "resolved"]).default("firing"),
    severity: z.enum(["critical", "error", "warning", "info"]).default("warning"),
    summary: z.string().max(4096).optional(),
    labels: labelMap.default({}),
    annotations: labelMap.default({}),
    startsAt: z.iso.datetime({ offset: true }).optional(),
    /** Alerts with the same fingerprint are one problem; default: derived from name, service, namespace and labels. */
    fingerprint: z.string().min(1).max(256).optional(),
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
  const canonical = Object.keys(labels).sort().map((k) => `${k}=${labels[k as keyof typeof labels]}`).join(",");
  return redactAlert({
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
  });
}
