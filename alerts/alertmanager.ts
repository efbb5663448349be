import { z } from "zod";

/** One alert inside an Alertmanager webhook (v4) notification. */
export const AlertmanagerAlertSchema = z.object({
  status: z.enum(["firing", "resolved"]),
  labels: z.record(z.string(), z.string()),
  annotations: z.record(z.string(), z.string()).default({}),
  startsAt: z.iso.datetime({ offset: true }),
  endsAt: z.string().optional(),
  generatorURL: z.string().optional(),
  fingerprint: z.string().optional(),
});

/** The Alertmanager webhook payload, version 4. */
export const AlertmanagerWebhookSchema = z.object({
  version: z.literal("4"),
  groupKey: z.string(),
  truncatedAlerts: z.number().int().nonnegative().optional(),
  status: z.enum(["firing", "resolved"]),
  receiver: z.string(),
  groupLabels: z.record(z.string(), z.string()).default({}),
  commonLabels: z.record(z.string(), z.string()).default({}),
  commonAnnotations: z.record(z.string(), z.string()).default({}),
  externalURL: z.string().default(""),
  alerts: z.array(AlertmanagerAlertSchema).min(1, "expected at least one alert"),
});

/** A validated Alertmanager webhook payload. */
export type AlertmanagerWebhook = z.infer<typeof AlertmanagerWebhookSchema>;
/** A validated Alertmanager alert. */
export type AlertmanagerAlert = z.infer<typeof AlertmanagerAlertSchema>;
