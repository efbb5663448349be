import type { Alert } from "../../domain/alerts/alert.js";
import type { Attempt, Evidence, IncidentContext } from "../../domain/model.js";

/** An alert with sensible defaults. */
export function makeAlert(overrides: Partial<Alert> = {}): Alert {
  return {
    name: "HighErrorRate",
    status: "firing",
    service: "checkout",
    namespace: "prod",
    severity: "critical",
    labels: { alertname: "HighErrorRate", service: "checkout", severity: "critical" },
    annotations: {},
    startsAt: "2026-11-23T10:00:00.000Z",
    fingerprint: "fp-checkout-errors",
    source: "alertmanager",
    ...overrides,
  };
}

let counter = 0;

/** One evidence fact. */
export function fact(key: string, service: string, value: Evidence["value"], attrs: Evidence["attrs"] = {}): Evidence {
  counter += 1;
  return { id: `ev-${counter}`, key, service, value, summary: `${service} ${key}=${String(value)}`, attrs };
}

/** An incident context holding the given facts. */
export function makeContext(evidence: Evidence[]): IncidentContext {
  return {
    services: [...new Set(evidence.map((e) => e.service))],
    evidence,
    signatures: {},
    observationRefs: [],
    observations: [],
    snapshot: { at: 0, signals: [] },
    gatheredAt: 0,
    actionWatermark: 0,
    unsettledActions: [],
  };
}

/** A finished attempt. */
export function makeAttempt(overrides: Partial<Attempt> = {}): Attempt {
  return {
    number: 1,
    call: { tool: "set_memory_limit", params: { service: "checkout", limitMib: 768 } },
    strategy: "set_memory_limit:checkout",
    faultClass: "memory-limit-too-tight",
    actionClass: "resources",
    risk: "medium",
    idempotencyKey: "k1",
    actionId: 1,
    rollback: null,
    before: { at: 0, signals: [] },
    executedAt: 0,
    settleSeconds: 300,
    status: "executed",
    verdict: "not_recovered",
    rolledBack: false,
    ...overrides,
  };
}

/** `deploy.latest`: a revision rolled out `minutes` ago that changed `changes` against the previous one. */
export function deployLatest(service: string, minutes: number, changes: string[], revision = 8): Evidence {
  return fact("deploy.latest", service, minutes, {
    revision,
    previous_revision: revision - 1,
    rollback_revision: revision - 1,
    has_previous: true,
    changes: changes.join(","),
    image: `${service}:${revision}`,
  });
}

/** `service.selects`: a Service in front of the workload and what its selector picks. */
export function serviceSelects(service: string, s: { kubeService?: string; readyEndpoints: number; selectedPods: number; selectsWorkload: boolean; workloadReadyPods: number }): Evidence {
  return fact("service.selects", service, s.readyEndpoints, {
    kube_service: s.kubeService ?? service,
    selector: "app=x",
    selected_pods: s.selectedPods,
    not_ready_endpoints: 0,
    selects_workload: s.selectsWorkload,
    workload_ready_pods: s.workloadReadyPods,
    minutes_since_created: 600,
  });
}

/** `log.signature` with an error class. */
export function logSignature(service: string, template: string, errorClass: string, level = "error"): Evidence {
  return fact("log.signature", service, template, { level, count: 12, error_class: errorClass, sample: template, minutes_since_first: 5 });
}

/** `hpa.state` (and, at the maximum, `hpa.at_max`) of an autoscaled workload. */
export function autoscaler(service: string, current: number, min: number, max: number): Evidence[] {
  const state = fact("hpa.state", service, current, { hpa: service, min, max, desired: current, at_max: current >= max, scaling_limited: current >= max });
  return current >= max ? [state, fact("hpa.at_max", service, 12, { hpa: service, min, max, current, desired: current, scaling_limited: true })] : [state];
}
