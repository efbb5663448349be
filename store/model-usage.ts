import type { Queryable } from "./database.js";

/** Records what one reasoner's model calls cost in one diagnosis round; a re-run round is not counted again. */
export async function recordModelUsage(q: Queryable, incidentId: string, round: number, reasoner: string, usage: { model: string; modelTokens: number; modelCostUsd: number }): Promise<void> {
  await q.query(
    `INSERT INTO model_usage (incident_id, round, reasoner, model, tokens, cost_usd) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (incident_id, round, reasoner, model) DO NOTHING`,
    [incidentId, round, reasoner, usage.model, usage.modelTokens, usage.modelCostUsd],
  );
}

/** Model tokens and estimated cost of one incident, per model. */
export async function modelUsageFor(q: Queryable, incidentId: string): Promise<Array<{ model: string; rounds: number; tokens: number; costUsd: number }>> {
  const result = await q.query<{ model: string; rounds: number; tokens: string; cost_usd: number }>(
    `SELECT model, count(*)::int AS rounds, sum(tokens)::text AS tokens, sum(cost_usd)::float8 AS cost_usd
     FROM model_usage WHERE incident_id = $1 GROUP BY model ORDER BY model`,
    [incidentId],
  );
  return result.rows.map((r) => ({ model: r.model, rounds: r.rounds, tokens: Number(r.tokens), costUsd: Number(r.cost_usd) }));
}
