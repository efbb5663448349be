import { z } from "zod";
import { InvalidInputError } from "../../domain/errors.js";
import { formatZodError } from "../../domain/problems.js";

/** A Prometheus label name, which is what Alertmanager accepts as a matcher name. */
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** One Alertmanager API v2 matcher. Suture only writes exact equality matchers. */
export const SilenceMatcherSchema = z.object({
  name: z.string().regex(LABEL_NAME, "expected a label name ([a-zA-Z_][a-zA-Z0-9_]*)"),
  value: z.string(),
  isRegex: z.boolean(),
  isEqual: z.boolean().default(true),
});

/** One matcher of a silence. */
export type SilenceMatcher = z.infer<typeof SilenceMatcherSchema>;

/** What `POST /api/v2/silences` takes (a new silence: no id). */
export const SilenceRequestSchema = z
  .object({
    matchers: z.array(SilenceMatcherSchema).min(1, "expected at least one matcher (a silence without matchers would mute every alert)"),
    startsAt: z.iso.datetime({ offset: true, message: "expected an ISO 8601 timestamp" }),
    endsAt: z.iso.datetime({ offset: true, message: "expected an ISO 8601 timestamp" }),
    createdBy: z.string().min(1, "expected who creates the silence"),
    comment: z.string().min(1, "expected a comment saying why"),
  })
  .refine((s) => Date.parse(s.endsAt) > Date.parse(s.startsAt), { message: "expected endsAt after startsAt", path: ["endsAt"] });

/** A silence to create. */
export type SilenceRequest = z.infer<typeof SilenceRequestSchema>;

/**
 * Labels left out of a silence's matchers by default. `prometheus_replica` is the external label
 * that tells the two Prometheus replicas of an HA pair apart (kube-prometheus-stack): without the
 * alert-relabelling that drops it, Alertmanager receives one copy of the alert per replica, and a
 * silence naming one replica's value would let the other copy through. Every other label stays:
 * Alertmanager matches on equality, so matching all of an alert's labels silences exactly that
 * alert and never another pod's, namespace's or rule's.
 */
export const VOLATILE_LABELS: readonly string[] = ["prometheus_replica"];

/** What a silence for an incident's alert needs besides the alert's labels. */
export interface SilenceForOptions {
  incidentId: string;
  /** A link to the incident (see {@link incidentLink}); left out of the comment when unset. */
  incidentUrl?: string;
  /** When the action's settle window ends: the silence lasts until then. */
  endsAt: Date;
  now: Date;
  /** Labels not to match on; {@link VOLATILE_LABELS} by default. */
  ignoreLabels?: readonly string[];
}

/**
 * The silence that mutes one alert while Suture's action settles: an exact-equality matcher for
 * every label of the alert but the volatile ones, from now until `endsAt`, created by `suture`,
 * with a comment naming the incident (and linking to it when a URL is given). Refuses an `endsAt`
 * that is not after `now` (Alertmanager would refuse it too, less clearly), an alert without an
 * `alertname` (a silence must never reach across alert rules), and labels that are not label names.
 */
export function silenceFor(alertLabels: Readonly<Record<string, string>>, options: SilenceForOptions): SilenceRequest {
  const { incidentId, incidentUrl, endsAt, now } = options;
  if (Number.isNaN(endsAt.getTime()) || Number.isNaN(now.getTime())) throw new InvalidInputError("silence for incident " + incidentId + ": endsAt and now must be valid dates");
  if (endsAt.getTime() <= now.getTime())
    throw new InvalidInputError(
      `silence for incident ${incidentId}: endsAt ${endsAt.toISOString()} is not after now ${now.toISOString()}; a silence must end after it starts (is the settle window already over?)`,
    );
  const alertname = alertLabels["alertname"];
  if (alertname === undefined || alertname === "")
    throw new InvalidInputError(`silence for incident ${incidentId}: the alert has no alertname label; Suture silences only a named alert, never by other labels alone`);
  const ignored = new Set(options.ignoreLabels ?? VOLATILE_LABELS);
  ignored.delete("alertname");
  // Sorted so the same alert always gives the same request (stable diffs, comparable audit rows);
  // an empty value is left out: Alertmanager treats a missing label and an empty one alike.
  const matchers = Object.entries(alertLabels)
    .filter(([name, value]) => !ignored.has(name) && value !== "")
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => ({ name, value, isRegex: false, isEqual: true }));
  const until = endsAt.toISOString();
  const parsed = SilenceRequestSchema.safeParse({
    matchers,
    startsAt: now.toISOString(),
    endsAt: until,
    createdBy: "suture",
    comment: `Suture incident ${incidentId}: action settling until ${until}${incidentUrl !== undefined ? `; ${incidentUrl}` : ""}`,
  });
  if (!parsed.success) throw new InvalidInputError(`silence for incident ${incidentId}: ${formatZodError(parsed.error, "silence ")}`);
  return parsed.data;
}

/** The API link to an incident under Suture's public base URL (`SUTURE_PUBLIC_URL`). */
export function incidentLink(publicUrl: string, incidentId: string): string {
  return `${publicUrl.replace(/\/+$/, "")}/v1/incidents/${encodeURIComponent(incidentId)}`;
}
