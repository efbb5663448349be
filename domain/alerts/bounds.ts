import { z } from "zod";
import { storableText } from "../input.js";

/**
 * Bounds on every alert field Suture stores, the same whichever source sent the alert
 * (documented in docs/api.md). A request over a bound is refused with the field named; nothing
 * is truncated silently.
 */
export const ALERT_BOUNDS = {
  /** Alert name, workload and namespace: a Kubernetes object name is at most 253 characters. */
  identifier: 253,
  severity: 64,
  fingerprint: 256,
  labelName: 256,
  labelValue: 4096,
  annotation: 65_536,
  /** Labels (or annotations) on one alert. */
  entries: 256,
} as const;

/** A bounded, storable alert name, workload or namespace. */
export function identifier(what: string): z.ZodString {
  return storableText(ALERT_BOUNDS.identifier, what).min(1, `expected ${what}`);
}

function boundedMap(value: z.ZodString, what: string): z.ZodType<Record<string, string>> {
  return z.record(storableText(ALERT_BOUNDS.labelName, `a ${what} name`), value).refine((m) => Object.keys(m).length <= ALERT_BOUNDS.entries, `expected at most ${ALERT_BOUNDS.entries} ${what}s`);
}

/** Labels as Prometheus sends them: names and values bounded and storable. */
export const LabelMapSchema = boundedMap(storableText(ALERT_BOUNDS.labelValue, "a label value"), "label");

/** Annotations carry descriptions and runbook links: longer than labels, still bounded. */
export const AnnotationMapSchema = boundedMap(storableText(ALERT_BOUNDS.annotation, "an annotation"), "annotation");

/** The normalized fields whose source differs per alert format, checked after normalization. */
const NormalizedFieldsSchema = z.object({
  name: identifier("an alert name"),
  severity: storableText(ALERT_BOUNDS.severity, "a severity"),
  fingerprint: storableText(ALERT_BOUNDS.fingerprint, "a fingerprint").min(1, "expected a fingerprint"),
});

/** Which request field each normalized field came from, so a refusal names what the client sent. */
export type FieldSources = Record<keyof z.infer<typeof NormalizedFieldsSchema>, string>;

/**
 * The problems of a normalized alert's derived fields (name, severity, fingerprint; the
 * target's names are checked where it is resolved, and an odd one leaves it unresolved, never refused), each as `<request field>: <expectation>`; empty when it is within bounds.
 */
export function normalizedProblems(alert: z.infer<typeof NormalizedFieldsSchema>, sources: FieldSources): string[] {
  const parsed = NormalizedFieldsSchema.safeParse(alert);
  if (parsed.success) return [];
  return parsed.error.issues.map((issue) => `${sources[issue.path[0] as keyof FieldSources]}: ${issue.message}`);
}
