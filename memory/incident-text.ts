import type { Alert } from "../domain/alerts/alert.js";
import type { IncidentContext } from "../domain/model.js";
import type { WeightedText } from "./embeddings.js";

/** Labels that describe where an alert fires, without identifying one pod or instance. */
const DESCRIPTIVE_LABELS = ["service", "app", "deployment", "job", "container", "namespace", "severity", "category"];
/** Annotations written for humans; URLs and ids are left out. */
const TEXT_ANNOTATIONS = ["summary", "description", "message"];

/** The alert as embedded text: its name weighs most, then what it says, then where it fires. */
export function alertDocument(alert: Alert): WeightedText[] {
  const labels = DESCRIPTIVE_LABELS.map((l) => alert.labels[l]).filter((v): v is string => v !== undefined);
  const annotations = TEXT_ANNOTATIONS.map((a) => alert.annotations[a]).filter((v): v is string => v !== undefined);
  return [
    { text: alert.name, weight: 3 },
    { text: annotations.join(". "), weight: 1.5 },
    { text: labels.join(" "), weight: 0.5 },
  ];
}

/**
 * The incident's normalized text: alert, the kinds of evidence (pod reasons, what changed,
 * abnormal metrics) and the top error signatures. Numbers and ids are left out so recurrences
 * of one fault read alike.
 */
export function incidentDocument(alert: Alert, context: IncidentContext | null): WeightedText[] {
  const facts = context?.evidence ?? [];
  const symptoms: string[] = [];
  for (const f of facts) {
    if (f.key === "pod.reason" || f.key === "pod.last_termination" || f.key === "event.reason") symptoms.push(`${f.key} ${String(f.value)}`);
    else if (f.key === "metric.anomalous") symptoms.push(`${f.service} ${String(f.value)} abnormal`);
    else if (f.key === "deploy.latest" && typeof f.value === "number" && f.value <= 240) symptoms.push(`recent rollout changed ${String(f.attrs["changes"] ?? "")}`);
    else if (f.key === "config.changed" && typeof f.value === "number" && f.value <= 240) symptoms.push(`config map changed keys ${String(f.attrs["keys"] ?? "")}`);
    else if ((f.key === "service.port_mismatch" && f.value === true) || (f.key === "breaker.state" && f.value !== "closed")) symptoms.push(`${f.key} ${String(f.value)}`);
    else if (f.key === "log.secret_exposure") symptoms.push(`secret exposed ${String(f.value)}`);
  }
  const signatures = Object.values(context?.signatures ?? {})
    .flat()
    .filter((s) => s.level === "error" || s.level === "fatal")
    .sort((a, b) => b.count - a.count)
    .slice(0, 5)
    .map((s) => s.template.replace(/<[a-z]+>/g, " "));
  return [...alertDocument(alert), { text: `service ${alert.service}`, weight: 1 }, { text: symptoms.join(". "), weight: 1.5 }, { text: signatures.join(". "), weight: 1 }];
}

/** Flattens a weighted document into the text stored beside its vector. */
export function documentText(doc: WeightedText[]): string {
  return doc
    .map((f) => f.text)
    .filter((t) => t.length > 0)
    .join(" | ");
}
