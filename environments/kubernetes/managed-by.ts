/** Object metadata as far as ownership conventions go: labels and annotations. */
interface Labelled {
  labels?: Record<string, string> | undefined;
  annotations?: Record<string, string> | undefined;
}

/**
 * The tool that manages an object and would put it back if it were changed by hand: Helm, Argo
 * CD, Flux or whatever `app.kubernetes.io/managed-by` (or an organisation's own `managed-by`) names; "" for an object applied by hand.
 * Read from the labels and annotations those tools set (a hand edit drifts from their source).
 */
/** Words a security team's isolation of a workload carries in the object's name, labels or annotations. */
const CONTAINMENT = /\b(quarantin\w*|isolat(e|ed|ion)|contain(ed|ment)|forensic\w*|incident[- ]response|compromis\w*)\b|\bdo not (remove|delete)\b/i;

/**
 * Why an object is a security containment (a quarantine NetworkPolicy an incident responder
 * applied): the first of its name, labels and annotations that says so, as `key: value`; "" for
 * anything else. Removing such an object undoes the containment, whatever it breaks.
 */
export function containmentOf(name: string, meta: Labelled | undefined): string {
  if (CONTAINMENT.test(name.replace(/[-_.]/g, " "))) return `name: ${name}`;
  for (const [key, value] of [...Object.entries(meta?.labels ?? {}), ...Object.entries(meta?.annotations ?? {})]) {
    if (CONTAINMENT.test(`${key.replace(/[-_./]/g, " ")} ${value}`)) return `${key}: ${value}`.slice(0, 200);
  }
  return "";
}

export function managedByOf(meta: Labelled | undefined): string {
  const labels = meta?.labels ?? {};
  const annotations = meta?.annotations ?? {};
  if (annotations["argocd.argoproj.io/tracking-id"] !== undefined || labels["argocd.argoproj.io/instance"] !== undefined) return "argocd";
  if (labels["kustomize.toolkit.fluxcd.io/name"] !== undefined || labels["helm.toolkit.fluxcd.io/name"] !== undefined) return "flux";
  if (annotations["meta.helm.sh/release-name"] !== undefined) return "helm";
  // The recommended label first, then any organisation's own `<prefix>/managed-by` or `managed-by`.
  const key = labels["app.kubernetes.io/managed-by"] !== undefined ? "app.kubernetes.io/managed-by" : Object.keys(labels).find((k) => k === "managed-by" || k.endsWith("/managed-by"));
  const declared = key !== undefined ? labels[key] : undefined;
  return declared !== undefined && declared !== "" ? declared.toLowerCase() : "";
}

/** Annotations a scheduled scaler (kube-downscaler) reads and writes on a workload. */
const SCHEDULE_ANNOTATIONS = ["downscaler/uptime", "downscaler/downtime", "downscaler/original-replicas", "downscaler/downtime-replicas"];

/** The scaling schedule a workload's annotations declare (`downscaler/uptime=Mon-Fri 07:00-21:00 Europe/Amsterdam; …`), or "" for none. */
export function scheduleOf(meta: Labelled | undefined): string {
  const annotations = meta?.annotations ?? {};
  return SCHEDULE_ANNOTATIONS.filter((key) => annotations[key] !== undefined)
    .map((key) => `${key}=${(annotations[key] ?? "").slice(0, 120)}`)
    .join("; ");
}
