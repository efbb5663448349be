import type { ActionCountQuery, BreakerRow, PolicyLedger } from "../domain/ledger.js";
import type { ToolCall } from "../domain/model.js";
import type { Queryable } from "./database.js";

/** A remediation that failed: the tool errored, or verification found it did not help or made things worse. */
const FAILED = `a.kind = 'remediation' AND (a.verdict IN ('worse', 'not_recovered') OR a.status = 'failed')`;
/** Actions after the workload's last breaker reset (`$ns` and `$svc` name the workload's columns or parameters). */
const sinceReset = (ns: string, svc: string): string => `a.id > COALESCE((SELECT max(after_action_id) FROM circuit_breaker_resets r WHERE r.namespace = ${ns} AND r.service = ${svc}), 0)`;

/** The policy ledger over the `actions` table (pool or a transaction's client). */
export class ActionsLedger implements PolicyLedger {
  constructor(private readonly db: Queryable) {}

  async countActions(q: ActionCountQuery): Promise<number> {
    const result = await this.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM actions a JOIN incidents i ON i.id = a.incident_id
        WHERE i.environment_id = $1 AND a.namespace = $2 AND ($3::text IS NULL OR a.target_service = $3)
          AND (a.tool = $4 OR a.action_class = $4) AND a.kind = 'remediation' AND a.status <> 'cancelled' AND a.env_time > $5
          AND NOT (a.incident_id = $6 AND a.attempt = $7)`,
      [q.environmentId, q.namespace, q.service ?? null, q.action, new Date(q.since), q.except.incidentId, q.except.attempt],
    );
    return result.rows[0]?.n ?? 0;
  }

  async lastSameCall(q: { environmentId: string; namespace: string; call: ToolCall; since: number; excludeIncident: string }): Promise<{ incidentId: string; at: number } | undefined> {
    const result = await this.db.query<{ incident_id: string; env_time: Date }>(
      `SELECT a.incident_id, a.env_time FROM actions a JOIN incidents i ON i.id = a.incident_id
        WHERE i.environment_id = $1 AND a.namespace = $2 AND a.tool = $3 AND a.params = $4::jsonb
          AND a.kind = 'remediation' AND a.status IN ('registered', 'executing', 'succeeded')
          AND a.env_time > $5 AND a.incident_id <> $6
        ORDER BY a.env_time DESC LIMIT 1`,
      [q.environmentId, q.namespace, q.call.tool, JSON.stringify(q.call.params), new Date(q.since), q.excludeIncident],
    );
    const row = result.rows[0];
    return row === undefined ? undefined : { incidentId: row.incident_id, at: row.env_time.getTime() };
  }

  async workloadsInFlight(q: { environmentId: string; excludeIncident: string }): Promise<string[]> {
    const result = await this.db.query<{ service: string }>(
      `SELECT DISTINCT a.target_service AS service FROM actions a JOIN incidents i ON i.id = a.incident_id
        WHERE i.environment_id = $1 AND a.kind = 'remediation' AND a.verdict IS NULL AND a.target_service IS NOT NULL
          AND a.status IN ('registered', 'executing', 'succeeded') AND i.status IN ('queued', 'open', 'running', 'awaiting_approval', 'verifying')
          AND a.incident_id <> $2
        ORDER BY 1`,
      [q.environmentId, q.excludeIncident],
    );
    return result.rows.map((r) => r.service);
  }

  async failures(q: { environmentId: string; namespace: string; service: string; since: number }): Promise<number> {
    const result = await this.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM actions a JOIN incidents i ON i.id = a.incident_id
        WHERE i.environment_id = $1 AND a.namespace = $2 AND a.target_service = $3 AND ${FAILED} AND a.env_time > $4
          AND ${sinceReset("$2", "$3")}`,
      [q.environmentId, q.namespace, q.service, new Date(q.since)],
    );
    return result.rows[0]?.n ?? 0;
  }

  /** Workloads with at least `threshold` failed remediations since their last reset (any environment). */
  async openBreakers(threshold: number): Promise<BreakerRow[]> {
    const result = await this.db.query<{ namespace: string; service: string; failures: number; last_failure_at: Date | null }>(
      `SELECT a.namespace, a.target_service AS service, count(*)::int AS failures, max(a.finished_at) AS last_failure_at
         FROM actions a
        WHERE a.namespace IS NOT NULL AND a.target_service IS NOT NULL AND ${FAILED}
          AND ${sinceReset("a.namespace", "a.target_service")}
        GROUP BY a.namespace, a.target_service HAVING count(*) >= $1
        ORDER BY a.namespace, a.target_service`,
      [threshold],
    );
    return result.rows.map((r) => ({ namespace: r.namespace, service: r.service, failures: r.failures, lastFailureAt: r.last_failure_at }));
  }

  /** Closes a workload's breaker: failures recorded so far no longer count. */
  async resetBreaker(namespace: string, service: string, by: string, reason: string): Promise<{ forgotten: number }> {
    const result = await this.db.query<{ forgotten: number }>(
      `WITH latest AS (SELECT COALESCE(max(id), 0) AS id FROM actions),
            reset AS (
              INSERT INTO circuit_breaker_resets (namespace, service, after_action_id, reset_by, reason)
              SELECT $1, $2, latest.id, $3, $4 FROM latest RETURNING after_action_id)
       SELECT count(a.id)::int AS forgotten FROM reset
         LEFT JOIN actions a ON a.namespace = $1 AND a.target_service = $2 AND ${FAILED}
          AND ${sinceReset("$1", "$2")}
          AND a.id <= reset.after_action_id`,
      [namespace, service, by, reason],
    );
    return { forgotten: result.rows[0]?.forgotten ?? 0 };
  }
}

/** Advisory-lock namespace for granting actions: one grant at a time per environment. */
const GRANT_LOCK_SPACE = 727_004;

/** Serializes grants in one environment (the key) until the caller's transaction ends, so re-counts and registrations never interleave. */
export async function lockGrants(q: Queryable, environment: string): Promise<void> {
  await q.query("SELECT pg_advisory_xact_lock($1, hashtext($2))", [GRANT_LOCK_SPACE, environment]);
}
