import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { Database } from "../store/database.js";
import type { IncidentQueue } from "../store/queue.js";

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
    new Gauge({
      name: "suture_incidents",
      help: "Incidents by status (outcome)",
      labelNames: ["status"],
      registers,
      async collect() {
        this.reset();
        const rows = await db.pool.query<{ status: string; n: number }>("SELECT status, count(*)::int AS n FROM incidents GROUP BY status");
        for (const r of rows.rows) this.set({ status: r.status }, r.n);
      },
    });
    new Gauge({
      name: "suture_actions",
      help: "Remediations and rollbacks by tool and result",
      labelNames: ["tool", "kind", "result"],
      registers,
      async collect() {
        this.reset();
        const rows = await db.pool.query<{ tool: string; kind: string; status: string; n: number }>("SELECT tool, kind, status, count(*)::int AS n FROM actions GROUP BY 1, 2, 3");
        for (const r of rows.rows) this.set({ tool: r.tool, kind: r.kind, result: r.status }, r.n);
      },
    });
    new Gauge({
      name: "suture_model_tokens",
      help: "Model tokens spent on incidents (all time, from the database), by model",
      labelNames: ["model"],
      registers,
      async collect() {
        this.reset();
        const rows = await db.pool.query<{ model: string; tokens: string }>("SELECT model, sum(tokens)::text AS tokens FROM model_usage GROUP BY model");
        for (const r of rows.rows) this.set({ model: r.model }, Number(r.tokens));
      },
    });
    new Gauge({
      name: "suture_model_cost_usd",
      help: "Estimated model cost of incidents in USD (all time, from the database), by model",
      labelNames: ["model"],
      registers,
      async collect() {
        this.reset();
        const rows = await db.pool.query<{ model: string; cost: number }>("SELECT model, sum(cost_usd)::float8 AS cost FROM model_usage GROUP BY model");
        for (const r of rows.rows) this.set({ model: r.model }, Number(r.cost));
      },
    });
    new Gauge({
      name: "suture_approvals_pending",
      help: "Approval requests waiting for a human",
      registers,
      async collect() {
        const rows = await db.pool.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM approvals a JOIN incidents i ON i.id = a.incident_id WHERE a.decision IS NULL AND i.status = 'awaiting_approval'",
        );
        this.set(rows.rows[0]?.n ?? 0);
      },
    });
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
