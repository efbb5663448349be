import { createHash } from "node:crypto";
import { z } from "zod";
import { formatZodError } from "../problems.js";
import { storableInstant, storableText } from "../input.js";
import { ALERT_BOUNDS } from "./bounds.js";
import { checkedAndRedacted, InvalidAlertError, workloadOf, type Alert } from "./alert.js";
import { targetFromLabels, type AlertTarget, type TargetMapping } from "./target.js";

const text = (max: number): z.ZodString => storableText(max);

/** A custom detail: a scalar becomes a label (bounded like one); anything else stays in the stored body only. */
const CustomDetailSchema = z.union([storableText(ALERT_BOUNDS.labelValue, "a label value"), z.number(), z.boolean(), z.null(), z.array(z.unknown()), z.record(z.string(), z.unknown())]);

/** A PagerDuty Events API v2 event (`POST /v2/enqueue` body). */
export const PagerDutyEventSchema = z
  .object({
    routing_key: text(128).min(1, "expected the integration's routing key"),
    event_action: z.enum(["trigger", "acknowledge", "resolve"]),
    dedup_key: text(255).min(1).optional(),
    client: text(1024).optional(),
    client_url: text(2048).optional(),
    payload: z
      .object({
        summary: text(1024).min(1),
        source: text(1024).min(1),
        severity: z.enum(["critical", "error", "warning", "info"]),
        timestamp: storableInstant().optional(),
        component: text(1024).optional(),
        group: text(1024).optional(),
        class: text(1024).optional(),
        custom_details: z
          .record(storableText(ALERT_BOUNDS.labelName, "a label name"), CustomDetailSchema)
          .refine((d) => Object.keys(d).length <= ALERT_BOUNDS.entries, `expected at most ${ALERT_BOUNDS.entries} details`)
          .optional(),
      })
      .optional(),
    images: z.array(z.unknown()).max(100).optional(),
    links: z.array(z.unknown()).max(100).optional(),
  })
  .superRefine((e, ctx) => {
    if (e.event_action === "trigger" && e.payload === undefined) ctx.addIssue({ code: "custom", path: ["payload"], message: "expected a payload for a trigger event" });
    if (e.event_action !== "trigger" && e.dedup_key === undefined) {
      ctx.addIssue({ code: "custom", path: ["dedup_key"], message: `expected the dedup_key of the alert to ${e.event_action}` });
    }
  });

/** A validated PagerDuty event. */
export type PagerDutyEvent = z.infer<typeof PagerDutyEventSchema>;

/** What a PagerDuty event asks for: open/attach, annotate, or resolve. */
export type PagerDutyAction = PagerDutyEvent["event_action"];

/** The text cut to at most `max` characters, ending in an ellipsis when cut (never between the halves of a surrogate pair). */
function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max - 1);
  return `${/[\ud800-\udbff]$/.test(cut) ? cut.slice(0, -1) : cut}…`;
}

function detail(details: Record<string, unknown> | undefined, key: string): string | undefined {
  const v = details?.[key];
  return typeof v === "string" && v !== "" ? v : undefined;
}

/** The dedup key PagerDuty would use for a trigger that gave none: stable per routing key and summary/source. */
function derivedDedupKey(e: PagerDutyEvent): string {
  return createHash("sha256")
    .update(`${e.routing_key}\n${e.payload?.source ?? ""}\n${e.payload?.summary ?? ""}`)
    .digest("hex")
    .slice(0, 32);
}

/**
 * The target of a PagerDuty event: its custom details read as labels (namespace, deployment, pod,
 * service, …, as an Alertmanager alert's); else `payload.component` as the workload's name, in
 * `custom_details.namespace`. `payload.source` names the reporting host and `payload.group` a
 * team's grouping: neither is taken for a workload or a namespace.
 */
function pagerDutyTarget(labels: Record<string, string>, component: string | undefined, mapping: TargetMapping | undefined): AlertTarget {
  const fromDetails = targetFromLabels(labels, mapping);
  // The component stands in only when the details name no target at all, not when the one they name is unusable.
  const namesNothing = (fromDetails.state === "unresolved" || fromDetails.kind === "Cluster") && fromDetails.via === "labels";
  if (!namesNothing || component === undefined) return fromDetails;
  const fromComponent = targetFromLabels({ ...labels, service: component }, mapping);
  return { ...fromComponent, via: fromComponent.via.replace("service", "payload.component") };
}

/**
 * Normalizes a PagerDuty event. The target comes from `custom_details` (read as labels) or
 * `payload.component` (see pagerDutyTarget); the dedup key is the fingerprint, so later
 * acknowledge/resolve events find the incident.
 */
export function parsePagerDutyEvent(body: unknown, receivedAt: Date = new Date(), mapping?: TargetMapping): { event: PagerDutyEvent; action: PagerDutyAction; alert: Alert } {
  const parsed = PagerDutyEventSchema.safeParse(body);
  if (!parsed.success) throw new InvalidAlertError(formatZodError(parsed.error));
  const e = parsed.data;
  const dedupKey = e.dedup_key ?? derivedDedupKey(e);
  const p = e.payload;
  const details = p?.custom_details;
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(details ?? {})) if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") labels[k] = String(v);
  const explicitName = detail(details, "alertname") ?? p?.class;
  // A summary is a sentence, not a name: when it has to stand in for one it is shortened, never refused.
  const name = explicitName ?? clip(p?.summary ?? "PagerDutyEvent", ALERT_BOUNDS.identifier);
  const target = pagerDutyTarget(labels, p?.component, mapping);
  const alert: Alert = {
    name,
    status: e.event_action === "resolve" ? "resolved" : "firing",
    ...workloadOf(target),
    severity: p?.severity ?? "warning",
    labels: { ...labels, alertname: name, ...(p?.component !== undefined && labels["service"] === undefined ? { service: p.component } : {}) },
    annotations: { ...(p?.summary !== undefined ? { summary: p.summary } : {}), ...(p?.source !== undefined ? { source: p.source } : {}) },
    startsAt: p?.timestamp ?? receivedAt.toISOString(),
    fingerprint: dedupKey,
    source: "pagerduty",
    target,
  };
  const checked = checkedAndRedacted(alert, {
    name: detail(details, "alertname") !== undefined ? "payload.custom_details.alertname" : "payload.class",
    severity: "payload.severity",
    fingerprint: "dedup_key",
  });
  return { event: e, action: e.event_action, alert: checked };
}
