import type { RateCount, SelfRate } from "../domain/self-health.js";
import type { Queryable } from "./database.js";

/** The two windows the self-metrics compare: the baseline [baselineFrom, windowFrom) and the window [windowFrom, until). */
export interface SelfMetricWindows {
  baselineFrom: Date;
  windowFrom: Date;
  until: Date;
}

/** A replay re-lives an incident (on a copy of its world, or stopping before acting): its decisions and actions are not Suture's behaviour in production. */
const NOT_REPLAYED = "incident_id NOT IN (SELECT id FROM incidents WHERE forked_from IS NOT NULL)";

type Row = { ev_cur: number; n_cur: number; ev_base: number; n_base: number };

function counts(row: Row | undefined): { current: RateCount; baseline: RateCount } {
  return { current: { events: Number(row?.ev_cur ?? 0), trials: Number(row?.n_cur ?? 0) }, baseline: { events: Number(row?.ev_base ?? 0), trials: Number(row?.n_base ?? 0) } };
}

/** Counts of `events` among `trials` (SQL predicates) in both windows, over rows of `table` timestamped by `at`. */
async function windowed(q: Queryable, table: string, at: string, trials: string, events: string, w: SelfMetricWindows): Promise<{ current: RateCount; baseline: RateCount }> {
  const rows = await q.query<Row>(
    `SELECT count(*) FILTER (WHERE ${at} >= $2 AND (${events}))::int AS ev_cur,
            count(*) FILTER (WHERE ${at} >= $2)::int AS n_cur,
            count(*) FILTER (WHERE ${at} < $2 AND (${events}))::int AS ev_base,
            count(*) FILTER (WHERE ${at} < $2)::int AS n_base
       FROM ${table}
      WHERE (${trials}) AND ${at} >= $1 AND ${at} < $3`,
    [w.baselineFrom, w.windowFrom, w.until],
  );
  return counts(rows.rows[0]);
}

/** Every self-metric's counts in the window and in its baseline, from the audit log and the actions ledger. */
export async function selfRateCounts(q: Queryable, w: SelfMetricWindows): Promise<Array<{ metric: SelfRate; current: RateCount; baseline: RateCount }>> {
  const executed = `kind = 'remediation' AND status IN ('succeeded', 'failed') AND ${NOT_REPLAYED}`;
  return [
    { metric: "escalation_rate", ...(await windowed(q, "audit_log", "at", `kind = 'diagnosis' AND ${NOT_REPLAYED}`, "detail->>'decision' = 'escalate'", w)) },
    { metric: "policy_deny_rate", ...(await windowed(q, "audit_log", "at", `kind = 'policy_verdict' AND ${NOT_REPLAYED}`, "detail->>'outcome' = 'deny'", w)) },
    // Rollbacks are rows of their own, so the rate joins two kinds: rollbacks over the remediations of the same window.
    { metric: "rollback_rate", ...(await rollbackCounts(q, w)) },
    { metric: "not_recovered_rate", ...(await windowed(q, "actions", "created_at", `kind = 'remediation' AND verdict IS NOT NULL AND ${NOT_REPLAYED}`, "verdict IN ('not_recovered', 'worse')", w)) },
    { metric: "action_failure_rate", ...(await windowed(q, "actions", "created_at", executed, "status = 'failed'", w)) },
  ];
}

async function rollbackCounts(q: Queryable, w: SelfMetricWindows): Promise<{ current: RateCount; baseline: RateCount }> {
  const rows = await q.query<Row>(
    `SELECT count(*) FILTER (WHERE created_at >= $2 AND kind = 'rollback')::int AS ev_cur,
            count(*) FILTER (WHERE created_at >= $2 AND kind = 'remediation')::int AS n_cur,
            count(*) FILTER (WHERE created_at < $2 AND kind = 'rollback')::int AS ev_base,
            count(*) FILTER (WHERE created_at < $2 AND kind = 'remediation')::int AS n_base
       FROM actions
      WHERE status IN ('succeeded', 'failed') AND ${NOT_REPLAYED} AND created_at >= $1 AND created_at < $3`,
    [w.baselineFrom, w.windowFrom, w.until],
  );
  return counts(rows.rows[0]);
}
