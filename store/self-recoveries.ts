import type { SelfRecoveryKind } from "../domain/self-health.js";
import type { Queryable } from "./database.js";

/** A recovery Suture applied to itself, in force until a human restores it. */
export interface SelfRecoveryRow {
  id: number;
  kind: SelfRecoveryKind;
  metric: string;
  /** The autonomy it lowers Suture to; null when it narrows something else (the model reasoner off). */
  autonomy: "recommend" | "observe" | null;
  reason: string;
  evidence: Record<string, unknown>;
  started_at: Date;
  restored_at: Date | null;
  restored_by: string | null;
  restore_reason: string | null;
}

const COLUMNS = "id::int AS id, kind, metric, autonomy, reason, evidence, started_at, restored_at, restored_by, restore_reason";

/**
 * Opens a recovery for a metric unless one of its kind is already in force for it (at most one
 * per kind and metric, enforced by a partial unique index); returns it, or undefined when one
 * was already in force. The audit entry goes in the same transaction (the caller's `q`).
 */
export async function openSelfRecovery(
  q: Queryable,
  input: { kind: SelfRecoveryRow["kind"]; metric: string; autonomy: SelfRecoveryRow["autonomy"]; reason: string; evidence: Record<string, unknown> },
): Promise<SelfRecoveryRow | undefined> {
  const rows = await q.query<SelfRecoveryRow>(
    `INSERT INTO self_recoveries (kind, metric, autonomy, reason, evidence) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (kind, metric) WHERE restored_at IS NULL DO NOTHING
     RETURNING ${COLUMNS}`,
    [input.kind, input.metric, input.autonomy, input.reason, JSON.stringify(input.evidence)],
  );
  return rows.rows[0];
}

/** Recoveries in force, oldest first. */
export async function activeSelfRecoveries(q: Queryable): Promise<SelfRecoveryRow[]> {
  return (await q.query<SelfRecoveryRow>(`SELECT ${COLUMNS} FROM self_recoveries WHERE restored_at IS NULL ORDER BY id`)).rows;
}

/** Ends a recovery in force, recording who and why; undefined when there is no such recovery in force. */
export async function restoreSelfRecovery(q: Queryable, id: number, by: string, reason: string): Promise<SelfRecoveryRow | undefined> {
  const rows = await q.query<SelfRecoveryRow>(`UPDATE self_recoveries SET restored_at = now(), restored_by = $2, restore_reason = $3 WHERE id = $1 AND restored_at IS NULL RETURNING ${COLUMNS}`, [
    id,
    by,
    reason,
  ]);
  return rows.rows[0];
}
