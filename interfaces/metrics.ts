import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { Database } from "../store/database.js";
import { actionsByResult, incidentsByStatus, modelSpend, pendingApprovalCount, type GaugeReading } from "../store/metrics.js";
import type { IncidentQueue } from "../store/queue.js";
import { watchesByStatus } from "../store/regressions.js";
import { IncidentStore } from "../store/incident-store.js";
import { selfHealth, type SelfHealth } from "../app/health.js";

/**
 * Suture's Prometheus metrics. Counters and histograms count what this process did; gauges
 * about incidents, actions, approvals and the queue are read from the database at scrape time,
 * so any process's `/metrics` shows the whole deployment.
 */
export class SutureMetrics {
  readonly registry = new Registry();
  /** Alert notifications accepted, by source and status (firing, resolved, acknowledge). */
  readonly alertsReceived: Counter<"source" | "status">;
  /** Requests refused at intake, by source and HTTP status. */
  readonly alertsRejected: Counter<"source" | "code">;
  /** Seconds each graph node took in this process. */
  readonly nodeDuration: Histogram<"node">;
  /** Incident jobs this process finished, by result. */
  readonly jobs: Counter<"result">;
  /** Policy file reloads by result (a failed reload keeps the last good policy). */
  readonly policyReloads: Counter<"result">;
  /** Seconds from an incident's intake to its graph starting on a worker. */
  readonly startLatency: Histogram;
  /** Deploy markers and failed builds received over HTTP, by kind and whether they were new. */
  readonly deploysReceived: Counter<"kind" | "result">;
  /** Regression-watch verdicts this process reached, by status (clean, recorded, regression, skipped). */
  readonly regressionLooks: Counter<"status">;

  constructor(db: Database, queue?: IncidentQueue) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: "suture_process_" });
    this.alertsReceived = new Counter({ name: "suture_alerts_received_total", help: "Alert notifications accepted, by source and status", labelNames: ["source", "status"], registers });
    this.alertsRejected = new Counter({ name: "suture_alert_requests_rejected_total", help: "Intake requests refused, by source and HTTP status code", labelNames: ["source", "code"], registers });
    this.nodeDuration = new Histogram({
      name: "suture_node_duration_seconds",
      help: "Duration of each incident-graph node",
      labelNames: ["node"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.policyReloads = new Counter({ name: "suture_policy_reloads_total", help: "Policy file reloads, by result (failed keeps the last good policy)", labelNames: ["result"], registers });
    this.jobs = new Counter({ name: "suture_jobs_total", help: "Incident jobs finished by this process, by result", labelNames: ["result"], registers });
    this.startLatency = new Histogram({
      name: "suture_incident_start_latency_seconds",
      help: "Seconds from intake to the incident's graph starting on a worker",
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.deploysReceived = new Counter({
      name: "suture_deploys_received_total",
      help: "Deploy markers and failed builds received over HTTP, by kind (deploy, build) and result (new, duplicate)",
      labelNames: ["kind", "result"],
      registers,
    });
    this.regressionLooks = new Counter({
      name: "suture_regression_verdicts_total",
      help: "Regression-watch verdicts this process reached, by status (clean, recorded, regression, skipped)",
      labelNames: ["status"],
      registers,
    });
    // A gauge, or a counter whose total the database keeps (rate() works on it), read on each scrape.
    const fromDatabase = (name: string, help: string, labelNames: string[], read: () => Promise<GaugeReading[]>, type: "gauge" | "counter" = "gauge"): void => {
      if (type === "counter") {
        new Counter({
          name,
          help,
          labelNames,
          registers,
          async collect() {
            this.reset();
            for (const r of await read()) this.inc(r.labels, r.value);
          },
        });
        return;
      }
      new Gauge({
        name,
        help,
        labelNames,
        registers,
        async collect() {
          this.reset();
          for (const r of await read()) this.set(r.labels, r.value);
        },
      });
    };
    const spend = async (pick: (s: { tokens: number; costUsd: number }) => number): Promise<GaugeReading[]> => (await modelSpend(db.pool)).map((s) => ({ labels: { model: s.model }, value: pick(s) }));
    fromDatabase("suture_incidents", "Incidents by status (outcome)", ["status"], () => incidentsByStatus(db.pool));
    fromDatabase("suture_actions", "Remediations and rollbacks by tool and result", ["tool", "kind", "result"], () => actionsByResult(db.pool));
    fromDatabase("suture_model_tokens", "Model tokens spent on incidents (all time, from the database), by model", ["model"], () => spend((s) => s.tokens));
    fromDatabase("suture_model_cost_usd", "Estimated model cost of incidents in USD (all time, from the database), by model", ["model"], () => spend((s) => s.costUsd));
    fromDatabase(
      "suture_regression_watches",
      "Deploys watched for regressions (all time, from the database), by status: watching, clean, recorded (flagged, not acted on), regression (incident opened), skipped",
      ["status"],
      async () => (await watchesByStatus(db.pool)).map((w) => ({ labels: { status: w.status }, value: w.n })),
    );
    const store = new IncidentStore(db);
    // Both self-health gauges read one judgement per scrape, not one each.
    let judged: { at: number; health: Promise<SelfHealth> } | undefined;
    const health = (): Promise<SelfHealth> => {
      if (judged === undefined || Date.now() - judged.at > 1000) judged = { at: Date.now(), health: selfHealth(store) };
      return judged.health;
    };
    new Gauge({
      name: "suture_self_rate",
      help: "Suture's own rates (escalations, policy denials, rollbacks, not recovered, failed actions, failed adapter calls, unusable model answers) in the last 6 h (window=current) and the 7 days before (window=baseline); `suture health`",
      labelNames: ["metric", "window"],
      registers,
      async collect() {
        this.reset();
        for (const r of (await health()).rates) {
          if (r.current.rate !== null) this.set({ metric: r.metric, window: "current" }, r.current.rate);
          if (r.baseline.rate !== null) this.set({ metric: r.metric, window: "baseline" }, r.baseline.rate);
        }
      },
    });
    new Gauge({
      name: "suture_self_anomalous",
      help: "1 when a self-metric's current rate is above its baseline by the anomaly test (one-sided binomial, p < 0.01, enough trials), 0 when not, -1 when there are too few trials to judge",
      labelNames: ["metric"],
      registers,
      async collect() {
        this.reset();
        for (const r of (await health()).rates) this.set({ metric: r.metric }, r.status === "anomalous" ? 1 : r.status === "ok" ? 0 : -1);
      },
    });
    // Calls to the adapter and the model are written to the database by whichever process made them: every process exports the same totals.
    // The three call totals read one aggregate per scrape, not one each (as the self-health gauges share one judgement).
    let totalsRead: { at: number; rows: ReturnType<IncidentStore["selfCallTotals"]> } | undefined;
    const allCallTotals = (): ReturnType<IncidentStore["selfCallTotals"]> => {
      if (totalsRead === undefined || Date.now() - totalsRead.at > 1000) totalsRead = { at: Date.now(), rows: store.selfCallTotals() };
      return totalsRead.rows;
    };
    const callTotals = (components: readonly string[], labelOf: string): Promise<Array<{ labels: Record<string, string>; calls: number; seconds: number }>> =>
      allCallTotals().then((rows) => rows.filter((r) => components.includes(r.component)).map((r) => ({ labels: { [labelOf]: r.operation, outcome: r.outcome }, calls: r.calls, seconds: r.seconds })));
    fromDatabase(
      "suture_adapter_calls_total",
      "Calls to the environment adapter (all processes, from the database), by operation and outcome: ok, not_found, forbidden, client_error, conflict, server_error, timeout, error",
      ["operation", "outcome"],
      async () => (await callTotals(["adapter_read", "adapter_write"], "operation")).map((r) => ({ labels: r.labels, value: r.calls })),
      "counter",
    );
    fromDatabase(
      "suture_adapter_call_seconds_total",
      "Time spent in calls to the environment adapter (all processes, from the database), by operation and outcome",
      ["operation", "outcome"],
      async () => (await callTotals(["adapter_read", "adapter_write"], "operation")).map((r) => ({ labels: r.labels, value: r.seconds })),
      "counter",
    );
    fromDatabase(
      "suture_model_calls_total",
      "Diagnosis calls to the model (all processes, from the database), by model and outcome: ok, discarded, invalid, timeout, error, skipped",
      ["model", "outcome"],
      async () => (await callTotals(["model"], "model")).map((r) => ({ labels: r.labels, value: r.calls })),
      "counter",
    );
    fromDatabase(
      "suture_self_recoveries_in_force",
      "1 for each recovery Suture applied to itself that is in force (lower_autonomy, adapter_breaker, model_off, memory_quarantine), by kind and metric; `suture health`",
      ["kind", "metric"],
      async () => (await store.activeSelfRecoveries()).map((r) => ({ labels: { kind: r.kind, metric: r.metric }, value: 1 })),
    );
    fromDatabase("suture_approvals_pending", "Approval requests waiting for a human", [], async () => [{ labels: {}, value: await pendingApprovalCount(db.pool) }]);
    if (queue !== undefined) {
      new Gauge({
        name: "suture_queue_jobs",
        help: "Jobs in the incident queue and its dead-letter queue, by state",
        labelNames: ["queue", "state"],
        registers,
        async collect() {
          this.reset();
          for (const d of await queue.depth()) this.set({ queue: d.queue, state: d.state }, d.jobs);
        },
      });
    }
  }

  /** The exposition text for `/metrics`. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
