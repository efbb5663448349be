import { resolveIncidentTarget } from "./alert-targets.js";
import { parseAlertmanagerWebhook, type Alert } from "../domain/alerts/alert.js";
import { SimEnvironment } from "../environments/simulator/index.js";
import { PolicyEngine, withSections } from "../policy/policy.js";
import { newIncidentId } from "../store/incidents.js";
import { advanceIncident, type RunOptions, type RunResult } from "./advance.js";
import type { Scenario, ScenarioAlert } from "./scenario.js";
import type { Suture } from "./suture.js";
import type { ApiFaults } from "../environments/cluster-api/faults.js";
import { alongPath, DEFAULT_PERCEPTION_PATH, type PerceptionPath } from "./sim-kubernetes.js";
import { saveOpenWorld } from "./worlds.js";

const MINUTE = 60_000;

/** How to play a scenario: how to run its graph, and the incident id to use. */
export interface ScenarioRunOptions extends RunOptions {
  /** Incident id to use (default: a fresh one). */
  incidentId?: string;
  /** Called once the incident is stored, before the graph runs. */
  onOpen?: (incidentId: string, alert: Alert) => void | Promise<void>;
  /** Through the world's Kubernetes API with the real adapter, or in-process (default {@link DEFAULT_PERCEPTION_PATH}). */
  via?: PerceptionPath;
  /** Faults the world's Kubernetes API injects (chaos tests of Suture itself); only on the `kubernetes` path. */
  apiFaults?: ApiFaults;
}

/** Builds the Alertmanager v4 webhook body a scenario alert stands for. */
export function scenarioWebhook(alert: ScenarioAlert, t0: number): Record<string, unknown> {
  const startsAt = new Date(t0 + (alert.startsAtMinutes ?? alert.atMinutes) * MINUTE).toISOString();
  return {
    version: "4",
    groupKey: `{}:{alertname="${alert.labels["alertname"] ?? ""}"}`,
    status: alert.status,
    receiver: "suture",
    groupLabels: { alertname: alert.labels["alertname"] ?? "" },
    commonLabels: alert.labels,
    commonAnnotations: alert.annotations,
    externalURL: "http://alertmanager.sim:9093",
    alerts: [
      {
        status: alert.status,
        labels: alert.labels,
        annotations: alert.annotations,
        startsAt,
        endsAt: alert.status === "resolved" ? new Date(t0 + alert.atMinutes * MINUTE).toISOString() : "0001-01-01T00:00:00Z",
        generatorURL: "http://prometheus.sim:9090/graph",
      },
    ],
  };
}

/** The Suture to run a scenario with: its policy sections replace the running policy's. */
function withScenarioPolicy(suture: Suture, scenario: Scenario): Suture {
  if (scenario.policy === undefined) return suture;
  return { ...suture, policy: new PolicyEngine(withSections(suture.policy.policy, scenario.policy), suture.tools) };
}

/**
 * Plays a scenario: builds its world, advances it to each alert, stores every notification
 * verbatim, opens an incident for the last firing alert and runs the graph on it.
 */
export async function runScenario(base: Suture, scenario: Scenario, options: ScenarioRunOptions = {}): Promise<RunResult<SimEnvironment>> {
  const suture = withScenarioPolicy(base, scenario);
  const env = SimEnvironment.create(scenario.environment);
  const t0 = env.startTime;
  const ordered = [...scenario.alerts].sort((a, b) => a.atMinutes - b.atMinutes);
  const trigger = [...ordered].reverse().find((a) => a.status === "firing");
  if (trigger === undefined) throw new Error(`scenario ${scenario.name} has no firing alert`);
  let incidentId: string | undefined;
  let incidentAlert: Alert | undefined;
  for (const alert of ordered) {
    await env.advanceTo(t0 + alert.atMinutes * MINUTE);
    const body = scenarioWebhook(alert, t0);
    const parsed = parseAlertmanagerWebhook(body);
    const received = parsed.alerts[0];
    if (received === undefined) continue;
    // The world looks the target up as the cluster would (a pod to its owner…); not a workload → the graph escalates.
    const normalized = alert === trigger ? await resolveIncidentTarget(env, received) : received;
    if (alert === trigger) {
      const id = options.incidentId ?? newIncidentId();
      incidentId = await suture.store.createIncident({ id, alert: normalized, scenario: scenario.name, environmentId: id });
      incidentAlert = normalized;
    }
    await suture.store.recordAlert({
      ...(alert === trigger ? { incidentId } : {}),
      alert: normalized,
      rawBody: JSON.stringify(body),
      ...(alert.status === "resolved" ? { endsAt: new Date(t0 + alert.atMinutes * MINUTE).toISOString() } : {}),
    });
    if (alert === trigger) break;
  }
  if (incidentId === undefined || incidentAlert === undefined) throw new Error(`scenario ${scenario.name}: trigger alert was not ingested`);
  await saveOpenWorld(suture, incidentId, scenario.environment, env);
  await options.onOpen?.(incidentId, incidentAlert);
  const alert = incidentAlert;
  // The saved world stays the SimEnvironment (resume and replay load it); only the perception path differs.
  const run = await alongPath(
    env,
    await namespaceFor(env, alert),
    options.via ?? DEFAULT_PERCEPTION_PATH,
    (world) => advanceIncident(suture, incidentId, { ...options, env: world, alert }),
    options.apiFaults,
  );
  return { ...run, env };
}

/** The namespace the incident's workload lives in (the world's first when its target is not a workload). */
async function namespaceFor(env: SimEnvironment, alert: Alert): Promise<string> {
  const first = (await env.listServices())[0];
  return env.namespaceOf(alert.service) ?? (alert.namespace !== "" ? alert.namespace : ((first !== undefined ? env.namespaceOf(first) : undefined) ?? "default"));
}

/** Runs one Alertmanager webhook body against a scenario's world (`suture run`). */
export async function runAlert(suture: Suture, rawBody: string, scenario: Scenario, options: ScenarioRunOptions = {}): Promise<Array<RunResult<SimEnvironment>>> {
  const { alerts } = parseAlertmanagerWebhook(JSON.parse(rawBody) as unknown);
  const env = SimEnvironment.create(scenario.environment);
  const lastAlertMinute = Math.max(...scenario.alerts.map((a) => a.atMinutes));
  await env.advanceTo(env.startTime + lastAlertMinute * MINUTE);
  const results: Array<RunResult<SimEnvironment>> = [];
  for (const received of alerts.filter((a) => a.status === "firing")) {
    const alert = await resolveIncidentTarget(env, received);
    const id = options.incidentId ?? newIncidentId();
    const incidentId = await suture.store.createIncident({ id, alert, scenario: scenario.name, environmentId: id });
    await suture.store.recordAlert({ incidentId, alert, rawBody });
    await saveOpenWorld(suture, incidentId, scenario.environment, env);
    await options.onOpen?.(incidentId, alert);
    const run = await alongPath(env, await namespaceFor(env, alert), options.via ?? DEFAULT_PERCEPTION_PATH, (world) => advanceIncident(suture, incidentId, { ...options, env: world, alert }));
    results.push({ ...run, env });
  }
  return results;
}
