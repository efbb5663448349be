import type { Queryable } from "./database.js";

/** One stored memory entry as a similarity search returns it. */
export interface MemoryRow {
  id: number;
  kind: "incident" | "runbook";
  incident_id: string | null;
  title: string;
  /** The alerting service of a remembered incident (null for runbooks). */
  service: string | null;
  similarity: number;
  outcome: string | null;
  fault_class: string | null;
  remediation: string | null;
  attempts: unknown;
  occurred_at: Date;
  details: Record<string, unknown>;
}

const COLUMNS = `id::int AS id, kind, incident_id, title, service, outcome, fault_class, remediation, attempts, occurred_at, details`;

/** What a replay's memory may see: nothing remembered after `asOf`, nor these incidents. */
export interface MemoryView {
  asOf?: Date;
  exclude?: string[];
}

/** The embedder the stored vectors were made with (set on first use), if any. */
export async function storedEmbedder(q: Queryable, first: { id: string; dimensions: number }): Promise<{ id: string } | undefined> {
  await q.query(`INSERT INTO memory_settings (key, value) VALUES ('embedder', $1) ON CONFLICT (key) DO NOTHING`, [JSON.stringify(first)]);
  return (await q.query<{ value: { id: string } }>("SELECT value FROM memory_settings WHERE key = 'embedder'")).rows[0]?.value;
}

/** Records the embedder every stored vector was (re-)made with. */
export async function setEmbedder(q: Queryable, embedder: { id: string; dimensions: number }): Promise<void> {
  await q.query(
    `INSERT INTO memory_settings (key, value) VALUES ('embedder', $1)
     ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()`,
    [JSON.stringify(embedder)],
  );
}

/** A finished incident as memory keeps it. */
export interface RememberedIncident {
  scope: string;
  incidentId: string;
  title: string;
  text: string;
  /** pgvector literal. */
  embedding: string;
  alertName: string;
  service: string;
  faultClass: string | null;
  remediation: string | null;
  actionClass: string | null;
  outcome: string;
  timeToMitigateS: number | null;
  attempts: unknown;
  details: unknown;
  occurredAt: Date;
  /** Each verified attempt, for the per-remediation counts. */
  outcomes: Array<{ attempt: number; faultClass: string; tool: string; actionClass: string; verdict: string; at: Date }>;
  /** What each verified attempt's verdict says of the remembered incidents that swayed it. */
  feedback: Array<{ memoryIncidentId: string; attempt: number; tool: string; said: string; verified: string; agrees: boolean }>;
}

/** Stores a remembered incident and its verified attempts; a second call for the same incident changes nothing. */
export async function insertRememberedIncident(q: Queryable, r: RememberedIncident): Promise<void> {
  await q.query(
    `INSERT INTO incident_memory (kind, scope, incident_id, title, text, embedding, alert_name, service, fault_class,
       remediation, action_class, outcome, time_to_mitigate_s, attempts, details, occurred_at)
     VALUES ('incident', $1, $2, $3, $4, $5::vector, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
     ON CONFLICT (incident_id) DO NOTHING`,
    [
      r.scope,
      r.incidentId,
      r.title,
      r.text,
      r.embedding,
      r.alertName,
      r.service,
      r.faultClass,
      r.remediation,
      r.actionClass,
      r.outcome,
      r.timeToMitigateS,
      JSON.stringify(r.attempts),
      JSON.stringify(r.details),
      r.occurredAt,
    ],
  );
  for (const o of r.outcomes) {
    await q.query(
      `INSERT INTO remediation_outcomes (scope, incident_id, attempt, fault_class, tool, action_class, outcome, at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (incident_id, attempt) DO NOTHING`,
      [r.scope, r.incidentId, o.attempt, o.faultClass, o.tool, o.actionClass, o.verdict, o.at],
    );
  }
  for (const f of r.feedback) {
    await q.query(
      `INSERT INTO memory_feedback (scope, memory_incident_id, incident_id, attempt, tool, said, verified, agrees)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (memory_incident_id, incident_id, attempt) DO NOTHING`,
      [r.scope, f.memoryIncidentId, r.incidentId, f.attempt, f.tool, f.said, f.verified, f.agrees],
    );
  }
}

/** A remembered incident later attempts contradicted at least `min` times, and more often than they confirmed it. */
export interface ContradictedMemory {
  incidentId: string;
  scope: string;
  title: string;
  contradicted: number;
  confirmed: number;
  /** The incidents whose verified attempts contradicted it. */
  by: string[];
}

/** Remembered incidents, not yet quarantined, that verified attempts contradicted at least `min` times and more often than they confirmed. */
export async function contradictedMemories(q: Queryable, min: number): Promise<ContradictedMemory[]> {
  const rows = await q.query<{ incident_id: string; scope: string; title: string; contradicted: number; confirmed: number; by: string[] }>(
    `SELECT m.incident_id, m.scope, m.title,
            count(*) FILTER (WHERE NOT f.agrees)::int AS contradicted,
            count(*) FILTER (WHERE f.agrees)::int AS confirmed,
            array_agg(DISTINCT f.incident_id) FILTER (WHERE NOT f.agrees) AS by
       FROM memory_feedback f JOIN incident_memory m ON m.incident_id = f.memory_incident_id
      WHERE m.quarantined_at IS NULL
      GROUP BY m.incident_id, m.scope, m.title
     HAVING count(*) FILTER (WHERE NOT f.agrees) >= $1 AND count(*) FILTER (WHERE NOT f.agrees) > count(*) FILTER (WHERE f.agrees)
      ORDER BY m.incident_id`,
    [min],
  );
  return rows.rows.map((r) => ({ incidentId: r.incident_id, scope: r.scope, title: r.title, contradicted: r.contradicted, confirmed: r.confirmed, by: r.by }));
}

/** Quarantines (or, with reason null, restores) a remembered incident: a quarantined one is neither recalled nor counted. */
export async function setMemoryQuarantine(q: Queryable, incidentId: string, reason: string | null): Promise<void> {
  await q.query("UPDATE incident_memory SET quarantined_at = CASE WHEN $2::text IS NULL THEN NULL ELSE now() END, quarantine_reason = $2 WHERE incident_id = $1", [incidentId, reason]);
}

/** Stores (or updates) an imported runbook. */
export async function upsertRunbook(q: Queryable, r: { scope: string; name: string; text: string; embedding: string; details: unknown }): Promise<void> {
  await q.query(
    `INSERT INTO incident_memory (kind, scope, title, text, embedding, alert_name, details)
     VALUES ('runbook', $1, $2, $3, $4::vector, $2, $5)
     ON CONFLICT (scope, title) WHERE kind = 'runbook'
     DO UPDATE SET text = EXCLUDED.text, embedding = EXCLUDED.embedding, details = EXCLUDED.details`,
    [r.scope, r.name, r.text, r.embedding, JSON.stringify(r.details)],
  );
}

/** The `k` entries of a scope nearest to a vector (cosine), optionally of one kind and never one incident. */
export async function nearestMemory(
  q: Queryable,
  query: { embedding: string; scope: string; k: number; kind?: "incident" | "runbook"; excludeIncident?: string; view: MemoryView },
): Promise<MemoryRow[]> {
  const result = await q.query<MemoryRow>(
    `SELECT ${COLUMNS}, 1 - (embedding <=> $1::vector) AS similarity FROM incident_memory
     WHERE scope = $2 AND quarantined_at IS NULL AND ($3::text IS NULL OR kind = $3) AND ($4::text IS NULL OR incident_id IS DISTINCT FROM $4)
       AND ($6::timestamptz IS NULL OR created_at <= $6) AND (incident_id IS NULL OR NOT (incident_id = ANY($7::text[])))
     ORDER BY embedding <=> $1::vector LIMIT $5`,
    [query.embedding, query.scope, query.kind ?? null, query.excludeIncident ?? null, query.k, query.view.asOf ?? null, query.view.exclude ?? []],
  );
  return result.rows;
}

/** Verified-attempt counts per (fault class, remediation) in a scope, as a view sees them. */
export async function remediationCounts(
  q: Queryable,
  query: { scope: string; faultClass?: string; tool?: string; view: MemoryView },
): Promise<Array<{ fault_class: string; tool: string; attempts: number; recovered: number; not_recovered: number; worse: number }>> {
  const result = await q.query<{ fault_class: string; tool: string; attempts: number; recovered: number; not_recovered: number; worse: number }>(
    `SELECT o.fault_class, o.tool, count(*)::int AS attempts,
       count(*) FILTER (WHERE o.outcome = 'recovered')::int AS recovered,
       count(*) FILTER (WHERE o.outcome = 'not_recovered')::int AS not_recovered,
       count(*) FILTER (WHERE o.outcome = 'worse')::int AS worse
     FROM remediation_outcomes o JOIN incidents i ON i.id = o.incident_id
     WHERE o.scope = $1 AND ($2::text IS NULL OR o.fault_class = $2) AND ($3::text IS NULL OR o.tool = $3)
       AND ($4::timestamptz IS NULL OR i.opened_at <= $4) AND NOT (o.incident_id = ANY($5::text[]))
       AND NOT EXISTS (SELECT 1 FROM incident_memory q WHERE q.incident_id = o.incident_id AND q.quarantined_at IS NOT NULL)
     GROUP BY o.fault_class, o.tool ORDER BY attempts DESC, o.fault_class, o.tool`,
    [query.scope, query.faultClass ?? null, query.tool ?? null, query.view.asOf ?? null, query.view.exclude ?? []],
  );
  return result.rows;
}

/** Entries per kind in a scope. */
export async function memoryCounts(q: Queryable, scope: string): Promise<Array<{ kind: string; n: number }>> {
  return (await q.query<{ kind: string; n: number }>("SELECT kind, count(*)::int AS n FROM incident_memory WHERE scope = $1 GROUP BY kind", [scope])).rows;
}

/** Every entry's text and embedding document (all scopes), for re-embedding. */
export async function memoryDocuments(q: Queryable): Promise<Array<{ id: number; text: string; details: { doc?: unknown } }>> {
  return (await q.query<{ id: number; text: string; details: { doc?: unknown } }>("SELECT id::int AS id, text, details FROM incident_memory ORDER BY id")).rows;
}

/** Replaces one entry's vector. */
export async function setMemoryEmbedding(q: Queryable, id: number, embedding: string): Promise<void> {
  await q.query("UPDATE incident_memory SET embedding = $2::vector WHERE id = $1", [id, embedding]);
}
