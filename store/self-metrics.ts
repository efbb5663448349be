import type { RateCount, SelfRate } from "../domain/self-health.js";
import { ADAPTER_FAILURES, MODEL_FAILURES, type CallComponent } from "../domain/self-calls.js";
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
    { metric: "adapter_read_failure_rate", ...(await callCounts(q, "adapter_read", ADAPTER_FAILURES, w)) },
    { metric: "adapter_write_failure_rate", ...(await callCounts(q, "adapter_write", ADAPTER_FAILURES, w)) },
    { metric: "model_failure_rate", ...(await callCounts(q, "model", MODEL_FAILURES, w, "outcome <> 'skipped'")) },
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

/** Failed calls among all calls of a component (rows of self_calls carry a count each). Replays' calls count: they are real calls. */
async function callCounts(q: Queryable, component: CallComponent, failures: readonly string[], w: SelfMetricWindows, trials = "true"): Promise<{ current: RateCount; baseline: RateCount }> {
  const rows = await q.query<Row>(
    `SELECT coalesce(sum(calls) FILTER (WHERE at >= $2 AND outcome = ANY($4::text[])), 0)::int AS ev_cur,
            coalesce(sum(calls) FILTER (WHERE at >= $2), 0)::int AS n_cur,
            coalesce(sum(calls) FILTER (WHERE at < $2 AND outcome = ANY($4::text[])), 0)::int AS ev_base,
            coalesce(sum(calls) FILTER (WHERE at < $2), 0)::int AS n_base
       FROM self_calls
      WHERE component = $5 AND (${trials}) AND at >= $1 AND at < $3`,
    [w.baselineFrom, w.windowFrom, w.until, failures, component],
  );
  return counts(rows.rows[0]);
}

/**
 * Failures among the last `lastCalls` calls of a component (the rows of the most recent runs, newest
 * first, until that many calls are counted; a run's row is taken whole). Skipped model calls
 * (not asked) are not calls.
 */
export async function recentCallCounts(q: Queryable, component: CallComponent, lastCalls: number): Promise<RateCount> {
  const rows = await q.query<{ outcome: string; calls: number }>(`SELECT outcome, calls FROM self_calls WHERE component = $1 AND outcome <> 'skipped' ORDER BY id DESC LIMIT $2`, [
    component,
    lastCalls,
  ]);
  const failures: readonly string[] = component === "model" ? MODEL_FAILURES : ADAPTER_FAILURES;
  const count: RateCount = { events: 0, trials: 0 };
  for (const r of rows.rows) {
    if (count.trials >= lastCalls) break;
    count.trials += r.calls;
    if (failures.includes(r.outcome)) count.events += r.calls;
  }
  return count;
}
