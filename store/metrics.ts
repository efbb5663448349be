import type { Queryable } from "./database.js";

/** One labelled value of a gauge read from the database. */
export interface GaugeReading {
  labels: Record<string, string>;
  value: number;
}

/** Incidents by status. */
export async function incidentsByStatus(q: Queryable): Promise<GaugeReading[]> {
  const rows = await q.query<{ status: string; n: number }>("SELECT status, count(*)::int AS n FROM incidents GROUP BY status");
  return rows.rows.map((r) => ({ labels: { status: r.status }, value: r.n }));
}

/** Actions by tool, kind and status. */
export async function actionsByResult(q: Queryable): Promise<GaugeReading[]> {
  const rows = await q.query<{ tool: string; kind: string; status: string; n: number }>("SELECT tool, kind, status, count(*)::int AS n FROM actions GROUP BY 1, 2, 3");
  return rows.rows.map((r) => ({ labels: { tool: r.tool, kind: r.kind, result: r.status }, value: r.n }));
}

/** Model tokens and estimated cost spent on incidents, per model (all time). */
export async function modelSpend(q: Queryable): Promise<Array<{ model: string; tokens: number; costUsd: number }>> {
  const rows = await q.query<{ model: string; tokens: string; cost: number }>("SELECT model, sum(tokens)::text AS tokens, sum(cost_usd)::float8 AS cost FROM model_usage GROUP BY model");
  return rows.rows.map((r) => ({ model: r.model, tokens: Number(r.tokens), costUsd: Number(r.cost) }));
}

/** Approval requests waiting for a human. */
export async function pendingApprovalCount(q: Queryable): Promise<number> {
  const rows = await q.query<{ n: number }>("SELECT count(*)::int AS n FROM approvals a JOIN incidents i ON i.id = a.incident_id WHERE a.decision IS NULL AND i.status = 'awaiting_approval'");
  return rows.rows[0]?.n ?? 0;
}
