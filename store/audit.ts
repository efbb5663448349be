import type { Queryable } from "./database.js";

/** An audit entry as stored. */
export interface AuditRow {
  id: number;
  incident_id: string | null;
  at: Date;
  env_time: Date | null;
  actor: string;
  kind: string;
  summary: string;
  detail: unknown;
}

/** A new audit entry. `dedupeKey` makes a re-run step's entry land once. */
export interface AuditEntry {
  /** The incident, or null for a decision about no single incident (a breaker reset). */
  incidentId: string | null;
  actor: string;
  kind: string;
  summary: string;
  detail?: unknown;
  envTime?: number;
  dedupeKey?: string;
}

/** Appends to the audit log; an entry whose dedupe key already exists is not written again. */
export async function audit(q: Queryable, entry: AuditEntry): Promise<void> {
  await q.query(
    `INSERT INTO audit_log (incident_id, actor, kind, summary, detail, env_time, dedupe_key)
     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (dedupe_key) DO NOTHING`,
    [entry.incidentId, entry.actor, entry.kind, entry.summary, JSON.stringify(entry.detail ?? {}), entry.envTime === undefined ? null : new Date(entry.envTime), entry.dedupeKey ?? null],
  );
}

/** The audit trail of one incident, in order. */
export async function auditFor(q: Queryable, incidentId: string): Promise<AuditRow[]> {
  const result = await q.query<AuditRow>("SELECT id::int AS id, incident_id, at, env_time, actor, kind, summary, detail FROM audit_log WHERE incident_id = $1 ORDER BY id", [incidentId]);
  return result.rows;
}

/** Entries of one kind about no single incident (self-health findings), newest first, since `since`. */
export async function recentAuditOfKind(q: Queryable, kind: string, since: Date): Promise<AuditRow[]> {
  const result = await q.query<AuditRow>(
    "SELECT id::int AS id, incident_id, at, env_time, actor, kind, summary, detail FROM audit_log WHERE kind = $1 AND incident_id IS NULL AND at >= $2 ORDER BY id DESC",
    [kind, since],
  );
  return result.rows;
}
