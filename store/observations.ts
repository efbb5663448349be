import type { ToolObservation } from "../domain/model.js";
import type { Queryable } from "./database.js";

/** A recorded read-tool call with its (redacted) result, as stored once per incident. */
export interface StoredObservation extends Omit<ToolObservation, "result"> {
  ref: string;
  perception: number;
  seq: number;
  result: unknown;
}

/** The reference a checkpoint keeps for one stored observation. */
export function observationRef(incidentId: string, perception: number, seq: number): string {
  return `${incidentId}#${perception}.${seq}`;
}

/**
 * Stores one perception's read-tool results, in order; returns each one's reference. A
 * perception that runs again (after a crash before its checkpoint) replaces its own rows, so the
 * references its checkpoint will keep point at the results its evidence came from.
 */
export async function recordObservations(q: Queryable, incidentId: string, perception: number, observations: ToolObservation[]): Promise<string[]> {
  const refs: string[] = [];
  for (const [seq, o] of observations.entries()) {
    await q.query(
      `INSERT INTO observations (incident_id, perception, seq, tool, params, env_time, ok, summary, result)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (incident_id, perception, seq) DO UPDATE SET tool = EXCLUDED.tool, params = EXCLUDED.params, env_time = EXCLUDED.env_time,
         ok = EXCLUDED.ok, summary = EXCLUDED.summary, result = EXCLUDED.result, recorded_at = now()`,
      [incidentId, perception, seq, o.tool, JSON.stringify(o.params), o.at, o.ok, o.summary, o.result === undefined ? null : JSON.stringify(o.result)],
    );
    refs.push(observationRef(incidentId, perception, seq));
  }
  return refs;
}

/** Every observation recorded for an incident, in order. */
export async function observationsFor(q: Queryable, incidentId: string): Promise<StoredObservation[]> {
  const rows = await q.query<{ perception: number; seq: number; tool: string; params: Record<string, unknown>; env_time: string; ok: boolean; summary: string; result: unknown }>(
    "SELECT perception, seq, tool, params, env_time::text AS env_time, ok, summary, result FROM observations WHERE incident_id = $1 ORDER BY perception, seq",
    [incidentId],
  );
  return rows.rows.map((r) => ({
    ref: observationRef(incidentId, r.perception, r.seq),
    perception: r.perception,
    seq: r.seq,
    tool: r.tool,
    params: r.params,
    at: Number(r.env_time),
    ok: r.ok,
    summary: r.summary,
    result: r.result,
  }));
}

/** Stores observations another database exported (an import), keeping their references; existing ones are kept. */
export async function restoreObservations(q: Queryable, rows: Array<Omit<StoredObservation, "ref"> & { incidentId: string }>): Promise<void> {
  for (const o of rows) {
    await q.query(
      `INSERT INTO observations (incident_id, perception, seq, tool, params, env_time, ok, summary, result)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (incident_id, perception, seq) DO NOTHING`,
      [o.incidentId, o.perception, o.seq, o.tool, JSON.stringify(o.params), o.at, o.ok, o.summary, o.result === undefined ? null : JSON.stringify(o.result)],
    );
  }
}
