import type { Database } from "../../store/database.js";

const HOUR = 3_600_000;

/** An incident with `n` remediations executed `hoursAgo` before `now`, `rollbacks` of them made worse and rolled back, and one diagnosis each, the first `escalations` escalated. */
export async function incidentHistory(db: Database, now: Date, h: { tag: string; hoursAgo: number; n: number; rollbacks: number; escalations: number; forkedFrom?: string | null }): Promise<void> {
  const { tag, hoursAgo, n, rollbacks, escalations } = h;
  const forkedFrom = h.forkedFrom ?? null;
  const at = new Date(now.getTime() - hoursAgo * HOUR);
  for (let i = 0; i < n; i++) {
    const id = `inc-${tag}-${i}`;
    await db.pool.query(
      "INSERT INTO incidents (id, fingerprint, alert_name, service, severity, status, forked_from, opened_at) VALUES ($1, $1, 'HighErrorRate', 'api', 'critical', 'resolved', $2, $3)",
      [id, forkedFrom, at],
    );
    await db.pool.query("INSERT INTO audit_log (incident_id, at, actor, kind, summary, detail) VALUES ($1, $2, 'diagnose', 'diagnosis', 'd', $3)", [
      id,
      at,
      JSON.stringify({ decision: i < escalations ? "escalate" : "act", confidence: 0.8 }),
    ]);
    const remediation = await db.pool.query<{ id: string }>(
      "INSERT INTO actions (incident_id, attempt, kind, tool, params, risk, action_class, idempotency_key, status, created_at, verdict) VALUES ($1, 1, 'remediation', 'rollout_undo', '{}', 'medium', 'rollback', $1 || ':r', 'succeeded', $2, $3) RETURNING id",
      [id, at, i < rollbacks ? "worse" : "recovered"],
    );
    if (i < rollbacks) {
      await db.pool.query(
        "INSERT INTO actions (incident_id, attempt, kind, tool, params, risk, action_class, idempotency_key, status, created_at, rollback_of) VALUES ($1, 1, 'rollback', 'rollout_undo', '{}', 'medium', 'rollback', $1 || ':b', 'succeeded', $2, $3)",
        [id, at, remediation.rows[0]!.id],
      );
    }
  }
}
