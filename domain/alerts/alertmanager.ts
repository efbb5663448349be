import { z } from "zod";
import { storableInstant, storableText } from "../input.js";
import { ALERT_BOUNDS, AnnotationMapSchema, LabelMapSchema } from "./bounds.js";

/** One alert inside an Alertmanager webhook (v4) notification. */
export const AlertmanagerAlertSchema = z.object({
  status: z.enum(["firing", "resolved"]),
  labels: LabelMapSchema,
  annotations: AnnotationMapSchema.default({}),
  startsAt: storableInstant(),
  endsAt: storableText(64).optional(),
  generatorURL: storableText(4096).optional(),
  fingerprint: storableText(ALERT_BOUNDS.fingerprint, "a fingerprint").min(1).optional(),
});

/** The Alertmanager webhook payload, version 4. */
export const AlertmanagerWebhookSchema = z.object({
  version: z.literal("4"),
  groupKey: storableText(4096),
  truncatedAlerts: z.number().int().nonnegative().optional(),
  status: z.enum(["firing", "resolved"]),
  receiver: storableText(256),
  groupLabels: LabelMapSchema.default({}),
  commonLabels: LabelMapSchema.default({}),
  commonAnnotations: AnnotationMapSchema.default({}),
  externalURL: storableText(4096).default(""),
  alerts: z.array(AlertmanagerAlertSchema).min(1, "expected at least one alert").max(1000, "expected at most 1000 alerts per notification"),
});

/** A validated Alertmanager webhook payload. */
export type AlertmanagerWebhook = z.infer<typeof AlertmanagerWebhookSchema>;
/** A validated Alertmanager alert. */
export type AlertmanagerAlert = z.infer<typeof AlertmanagerAlertSchema>;
