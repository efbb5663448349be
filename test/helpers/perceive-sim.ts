import type { Alert } from "../../domain/alerts/alert.js";
import type { Evidence } from "../../domain/model.js";
import { METRIC_NAMES } from "../../environments/adapter.js";
import type { SimEnvironment } from "../../environments/simulator/index.js";
import { extractEvidence, type ServiceObservations } from "../../evidence/extract.js";

/**
 * Evidence for an alert from a simulated world, read as perceive reads the alerting workload
 * (90 min of every metric, 400 log lines, its description and rollout history), without a graph
 * or a database: one flapless firing in the last hour.
 */
export async function perceiveSim(env: SimEnvironment, alert: Alert): Promise<Evidence[]> {
  const metrics: ServiceObservations["metrics"] = {};
  for (const m of METRIC_NAMES) {
    const s = await env.queryMetric(alert.service, m, 90);
    if (s.points.length > 0) metrics[m] = s;
  }
  const observation: ServiceObservations = {
    service: alert.service,
    role: "alerting",
    workload: await env.describeWorkload(alert.service),
    deploys: await env.deployHistory(alert.service),
    metrics,
    logs: await env.tailLogs(alert.service, 400),
    consumerGroups: [],
  };
  return extractEvidence(alert, [observation], { firing: 1, resolved: 0, windowMinutes: 60 }, env.now()).evidence;
}
