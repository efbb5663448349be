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
