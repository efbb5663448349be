import { z } from "zod";

/** Label maps as Prometheus sends them; bounded so a runaway body is refused, not stored. */
const Labels = z.record(z.string().max(256, "expected a label name of at most 256 characters"), z.string().max(4096, "expected a label value of at most 4096 characters"));
/** Annotations carry descriptions and runbook links: longer, still bounded. */
const Annotations = z.record(z.string().max(256, "expected an annotation name of at most 256 characters"), z.string().max(65_536, "expected an annotation of at most 65536 characters"));

/** One alert inside an Alertmanager webhook (v4) notification. */
export const AlertmanagerAlertSchema = z.object({
  status: z.enum(["firing", "resolved"]),
  labels: Labels,
  annotations: Annotations.default({}),
  startsAt: z.iso.datetime({ offset: true }),
  endsAt: z.string().max(64).optional(),
  generatorURL: z.string().max(4096).optional(),
  fingerprint: z.string().min(1).max(256).optional(),
});

/** The Alertmanager webhook payload, version 4. */
export const AlertmanagerWebhookSchema = z.object({
  version: z.literal("4"),
  groupKey: z.string().max(4096),
  truncatedAlerts: z.number().int().nonnegative().optional(),
  status: z.enum(["firing", "resolved"]),
  receiver: z.string().max(256),
  groupLabels: Labels.default({}),
  commonLabels: Labels.default({}),
  commonAnnotations: Annotations.default({}),
  externalURL: z.string().max(4096).default(""),
  alerts: z.array(AlertmanagerAlertSchema).min(1, "expected at least one alert").max(1000, "expected at most 1000 alerts per notification"),
});

/** A validated Alertmanager webhook payload. */
export type AlertmanagerWebhook = z.infer<typeof AlertmanagerWebhookSchema>;
/** A validated Alertmanager alert. */
export type AlertmanagerAlert = z.infer<typeof AlertmanagerAlertSchema>;
