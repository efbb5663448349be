import type { CallCount } from "../domain/self-calls.js";
import type { Queryable } from "./database.js";

/** Writes one run's call counts in one statement (nothing when there were no calls). */
export async function recordSelfCalls(q: Queryable, incidentId: string | null, counts: readonly CallCount[]): Promise<void> {
  if (counts.length === 0) return;
  const values: unknown[] = [];
  const rows = counts.map((c, i) => {
    values.push(incidentId, c.component, c.operation, c.outcome, c.calls, c.totalMs, c.maxMs);
    const p = i * 7;
    return `($${p + 1}, $${p + 2}, $${p + 3}, $${p + 4}, $${p + 5}, $${p + 6}, $${p + 7})`;
  });
  await q.query(`INSERT INTO self_calls (incident_id, component, operation, outcome, calls, total_ms, max_ms) VALUES ${rows.join(", ")}`, values);
}

/** All calls ever counted, per component, operation and outcome (the /metrics counters), with their total latency. */
export async function selfCallTotals(q: Queryable): Promise<Array<{ component: string; operation: string; outcome: string; calls: number; seconds: number }>> {
  const result = await q.query<{ component: string; operation: string; outcome: string; calls: string; seconds: number }>(
    `SELECT component, operation, outcome, sum(calls)::text AS calls, (sum(total_ms) / 1000)::float8 AS seconds
       FROM self_calls GROUP BY component, operation, outcome ORDER BY component, operation, outcome`,
  );
  return result.rows.map((r) => ({ ...r, calls: Number(r.calls), seconds: Number(r.seconds) }));
}
