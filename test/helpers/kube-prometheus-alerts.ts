import path from "node:path";
import type { Alert } from "../../domain/alerts/alert.js";

/** "KubePodCrashLooping" → "Kube pod crash looping". */
function humanize(name: string): string {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1 $2")
    .split(" ");
  return words.map((w, i) => (i === 0 ? w : /^[A-Z0-9]+$/.test(w) ? w : w.toLowerCase())).join(" ");
}

/** Labels kube-prometheus attaches to alerts of each component (values are made up). */
const LABELS: Record<string, Record<string, string>> = {
  kubernetes: { namespace: "shop", pod: "checkout-7d9f8b6c5d-x2k4p", container: "app", job: "kube-state-metrics", severity: "warning" },
  "kube-state-metrics": { namespace: "monitoring", pod: "kube-state-metrics-6b7c9d8f5-q2w8r", job: "kube-state-metrics", severity: "critical" },
  node: { instance: "10.0.3.17:9100", job: "node-exporter", namespace: "monitoring", device: "/dev/nvme0n1p1", mountpoint: "/", severity: "warning" },
  etcd: { job: "etcd", instance: "10.0.0.5:2379", severity: "warning" },
  prometheus: { namespace: "monitoring", pod: "prometheus-k8s-0", job: "prometheus-k8s", severity: "warning" },
  alertmanager: { namespace: "monitoring", pod: "alertmanager-main-0", job: "alertmanager-main", severity: "critical" },
  "prometheus-operator": { namespace: "monitoring", job: "prometheus-operator", controller: "prometheus", severity: "warning" },
  general: { namespace: "monitoring", job: "kube-prometheus", severity: "none" },
};

/**
 * A realistic Alertmanager alert for an alert name, shaped like kube-prometheus sends it:
 * component labels, a runbook_url, and a summary and description synthesized from the alert name
 * and labels. It carries no text from the runbook itself.
 */
export function syntheticKubePrometheusAlert(alertName: string, runbookFile: string): Alert {
  const group = path.basename(path.dirname(runbookFile));
  const labels: Record<string, string> = { alertname: alertName, ...(LABELS[group] ?? LABELS["general"]) };
  const where = labels["pod"] ?? labels["instance"] ?? labels["job"] ?? "the cluster";
  const phrase = humanize(alertName);
  return {
    name: alertName,
    status: "firing",
    service: labels["job"] ?? group,
    namespace: labels["namespace"] ?? "default",
    severity: labels["severity"] ?? "warning",
    labels,
    annotations: {
      summary: `${phrase}.`,
      description: `${phrase} on ${where} (job ${labels["job"] ?? "unknown"}) for more than 15 minutes.`,
      runbook_url: `https://runbooks.prometheus-operator.dev/runbooks/${group}/${alertName.toLowerCase()}`,
    },
    startsAt: "2026-11-23T10:00:00Z",
    fingerprint: `fp-${alertName.toLowerCase()}`,
    source: "alertmanager",
  };
}
