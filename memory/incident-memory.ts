import pgvector from "pgvector";
import type { Alert } from "../domain/alerts/alert.js";
import type { Database } from "../store/database.js";
import type { Attempt, IncidentContext, Outcome } from "../domain/model.js";
import { EMBEDDING_DIMENSIONS, type Embedder, type WeightedText } from "./embeddings.js";
import { alertDocument, documentText, incidentDocument } from "./incident-text.js";
import { readRunbooks, runbookDocument, type Runbook } from "./runbooks.js";

/** How a remembered incident ended. */
export type MemoryOutcome = "resolved" | "rolled_back" | "escalated" | "no_action";

/** One verified attempt of a remembered incident. */
export interface RememberedAttempt {
  faultClass: string;
  tool: string;
  actionClass: string;
  verdict: "recovered" | "not_recovered" | "worse";
}

/** A memory entry returned by a similarity search. */
export interface MemoryNeighbor {
  id: number;
  kind: "incident" | "runbook";
  incidentId: string | null;
  title: string;
  /** The alerting service of a remembered incident (null for runbooks). */
  service: string | null;
  similarity: number;
  outcome: MemoryOutcome | null;
  faultClass: string | null;
  remediation: string | null;
  attempts: RememberedAttempt[];
  occurredAt: Date;
  details: Record<string, unknown>;
}

/** Success and rollback rates of one remediation for one fault class. */
export interface RemediationStats {
  faultClass: string;
  tool: string;
  attempts: number;
  recovered: number;
  notRecovered: number;
  worse: number;
  successRate: number;
  rollbackRate: number;
}

/** What is remembered when an incident reaches a terminal state. */
export interface IncidentToRemember {
  incidentId: string;
  alert: Alert;
  context: IncidentContext | null;
  outcome: Outcome;
  attempts: Attempt[];
  faultClass: string | null;
}

/** Thrown when stored vectors were written by another embedder than the configured one. */
export class EmbedderMismatchError extends Error {
  constructor(stored: string, configured: string) {
    super(
      `incident memory was embedded with "${stored}" but the configured embedder is "${configured}"; ` +
        "run `suture memory re-embed` to re-embed every entry, or configure the original embedder",
    );
    this.name = "EmbedderMismatchError";
  }
}

interface MemoryRow {
  id: number;
  kind: "incident" | "runbook";
  incident_id: string | null;
  title: string;
  /** The alerting service of a remembered incident (null for runbooks). */
  service: string | null;
  similarity: number;
  outcome: MemoryOutcome | null;
  fault_class: string | null;
  remediation: string | null;
  attempts: RememberedAttempt[];
  occurred_at: Date;
  details: Record<string, unknown>;
}

function toNeighbor(r: MemoryRow): MemoryNeighbor {
  return {
    id: r.id,
    kind: r.kind,
    incidentId: r.incident_id,
    title: r.title,
    service: r.service,
    similarity: Number(r.similarity),
    outcome: r.outcome,
    faultClass: r.fault_class,
    remediation: r.remediation,
    attempts: r.attempts,
    occurredAt: r.occurred_at,
    details: r.details,
  };
}

/** Maps a terminal state to what memory records about it. */
export function memoryOutcome(outcome: Outcome, attempts: Attempt[]): { outcome: MemoryOutcome; remediation: Attempt | undefined } {
  if (outcome.status === "resolved") return { outcome: "resolved", remediation: attempts.find((a) => a.verdict === "recovered") };
  if (outcome.status === "closed_no_action") return { outcome: "no_action", remediation: undefined };
  const rolledBack = attempts.find((a) => a.rolledBack);
  if (rolledBack !== undefined) return { outcome: "rolled_back", remediation: rolledBack };
  return { outcome: "escalated", remediation: attempts[attempts.length - 1] };
}

const COLUMNS = `id::int AS id, kind, incident_id, title, service, outcome, fault_class, remediation, attempts, occurred_at, details`;

/**
 * Suture's memory of past incidents and imported runbooks, in PostgreSQL with pgvector: the
 * same SQL on embedded PGlite and on a server. Reads and writes stay within one scope.
 */
export class IncidentMemory {
  private checked = false;

  constructor(
    private readonly db: Database,
    readonly embedder: Embedder,
    readonly scope: string = "default",
    /** A replay recalls memory as it was: nothing remembered after this time, nor these incidents. */
    private readonly view: { asOf?: Date; exclude?: string[] } = {},
  ) {}

  /** The same memory seen as of a moment, without some incidents (for replays). */
  asOf(asOf: Date, exclude: string[]): IncidentMemory {
    const view = new IncidentMemory(this.db, this.embedder, this.scope, { asOf, exclude });
    view.checked = this.checked;
    return view;
  }

  /** Records the embedder on first use and refuses to mix vectors from another one. */
  async ensureEmbedder(): Promise<void> {
    if (this.checked) return;
    if (this.embedder.dimensions !== EMBEDDING_DIMENSIONS) {
      throw new Error(`embedder ${this.embedder.id} makes ${this.embedder.dimensions}-dimensional vectors; memory stores ${EMBEDDING_DIMENSIONS}`);
    }
    await this.db.pool.query(
      `INSERT INTO memory_settings (key, value) VALUES ('embedder', $1) ON CONFLICT (key) DO NOTHING`,
      [JSON.stringify({ id: this.embedder.id, dimensions: this.embedder.dimensions })],
    );
    const stored = (await this.db.pool.query<{ value: { id: string } }>("SELECT value FROM memory_settings WHERE key = 'embedder'")).rows[0];
    if (stored !== undefined && stored.value.id !== this.embedder.id) throw new EmbedderMismatchError(stored.value.id, this.embedder.id);
    this.checked = true;
  }

  private async vector(doc: WeightedText[]): Promise<string> {
    await this.ensureEmbedder();
    const [v] = await this.embedder.embed([doc]);
    if (v === undefined) throw new Error(`embedder ${this.embedder.id} returned no vector`);
    return pgvector.toSql(v) ?? "";
  }

  /** Remembers a finished incident with its outcome and every verified attempt. Idempotent per incident. */
  async remember(input: IncidentToRemember): Promise<void> {
    // A replay re-lives an incident already remembered; it is not new experience.
    if (this.view.asOf !== undefined) return;
    const { outcome, remediation } = memoryOutcome(input.outcome, input.attempts);
    const doc = incidentDocument(input.alert, input.context);
    const embedding = await this.vector(doc);
    const attempts: RememberedAttempt[] = input.attempts
      .filter((a) => a.verdict !== undefined)
      .map((a) => ({ faultClass: a.faultClass, tool: a.call.tool, actionClass: a.actionClass, verdict: a.verdict ?? "not_recovered" }));
    const started = new Date(input.alert.startsAt).getTime();
    const ttm = outcome === "resolved" ? Math.round((input.outcome.at - started) / 1000) : null;
    await this.db.pool.query(
      `INSERT INTO incident_memory (kind, scope, incident_id, title, text, embedding, alert_name, service, fault_class,
         remediation, action_class, outcome, time_to_mitigate_s, attempts, details, occurred_at)
       VALUES ('incident', $1, $2, $3, $4, $5::vector, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
       ON CONFLICT (incident_id) DO NOTHING`,
      [
        this.scope,
        input.incidentId,
        `${input.alert.name} on ${input.alert.service}`,
        documentText(doc),
        embedding,
        input.alert.name,
        input.alert.service,
        remediation?.faultClass ?? input.faultClass,
        remediation?.call.tool ?? null,
        remediation?.actionClass ?? null,
        outcome,
        ttm,
        JSON.stringify(attempts),
        JSON.stringify({ reason: input.outcome.reason, remediationCall: remediation?.call ?? null, doc }),
        new Date(input.outcome.at),
      ],
    );
    for (const a of input.attempts) {
      if (a.verdict === undefined) continue;
      await this.db.pool.query(
        `INSERT INTO remediation_outcomes (scope, incident_id, attempt, fault_class, tool, action_class, outcome, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (incident_id, attempt) DO NOTHING`,
        [this.scope, input.incidentId, a.number, a.faultClass, a.call.tool, a.actionClass, a.verdict, new Date(a.executedAt)],
      );
    }
  }

  private async nearest(embedding: string, k: number, kind: "incident" | "runbook" | undefined, excludeIncident?: string): Promise<MemoryNeighbor[]> {
    const result = await this.db.pool.query<MemoryRow>(
      `SELECT ${COLUMNS}, 1 - (embedding <=> $1::vector) AS similarity FROM incident_memory
       WHERE scope = $2 AND ($3::text IS NULL OR kind = $3) AND ($4::text IS NULL OR incident_id IS DISTINCT FROM $4)
         AND ($6::timestamptz IS NULL OR created_at <= $6) AND (incident_id IS NULL OR NOT (incident_id = ANY($7::text[])))
       ORDER BY embedding <=> $1::vector LIMIT $5`,
      [embedding, this.scope, kind ?? null, excludeIncident ?? null, k, this.view.asOf ?? null, this.view.exclude ?? []],
    );
    return result.rows.map(toNeighbor);
  }

  /** The k past incidents most similar to this one (never itself). */
  async recall(incidentId: string, alert: Alert, context: IncidentContext | null, k = 5): Promise<MemoryNeighbor[]> {
    return this.nearest(await this.vector(incidentDocument(alert, context)), k, "incident", incidentId);
  }

  /** The imported runbook most similar to the alert, with its similarity. */
  async suggestRunbook(alert: Alert): Promise<MemoryNeighbor | undefined> {
    return (await this.nearest(await this.vector(alertDocument(alert)), 1, "runbook"))[0];
  }

  /** Runbooks most similar to an alert (for retrieval checks). */
  async runbooksFor(alert: Alert, k: number): Promise<MemoryNeighbor[]> {
    return this.nearest(await this.vector(alertDocument(alert)), k, "runbook");
  }

  /** Free-text search over every entry. */
  async search(text: string, k = 5): Promise<MemoryNeighbor[]> {
    return this.nearest(await this.vector([{ text, weight: 1 }]), k, undefined);
  }

  /** Imports runbooks (Meaning / Impact / Diagnosis / Mitigation); re-importing updates them. */
  async importRunbooks(dir: string): Promise<Runbook[]> {
    const runbooks = await readRunbooks(dir);
    if (runbooks.length === 0) throw new Error(`no runbooks (*.md with a "# AlertName" heading) under ${dir}`);
    for (const r of runbooks) {
      const doc = runbookDocument(r);
      await this.db.pool.query(
        `INSERT INTO incident_memory (kind, scope, title, text, embedding, alert_name, details)
         VALUES ('runbook', $1, $2, $3, $4::vector, $2, $5)
         ON CONFLICT (scope, title) WHERE kind = 'runbook'
         DO UPDATE SET text = EXCLUDED.text, embedding = EXCLUDED.embedding, details = EXCLUDED.details`,
        [this.scope, r.name, documentText(doc), await this.vector(doc), JSON.stringify({ title: r.title, meaning: r.meaning, diagnosis: r.diagnosis, mitigation: r.mitigation, file: r.file, doc })],
      );
    }
    return runbooks;
  }

  /**
   * Verified-attempt counts per (fault class, remediation), optionally for one pair; a replay's
   * view counts only incidents opened by its moment, without the excluded ones.
   */
  private async outcomeCounts(only: { faultClass?: string; tool?: string } = {}): Promise<RemediationStats[]> {
    const result = await this.db.pool.query<{ fault_class: string; tool: string; attempts: number; recovered: number; not_recovered: number; worse: number }>(
      `SELECT o.fault_class, o.tool, count(*)::int AS attempts,
         count(*) FILTER (WHERE o.outcome = 'recovered')::int AS recovered,
         count(*) FILTER (WHERE o.outcome = 'not_recovered')::int AS not_recovered,
         count(*) FILTER (WHERE o.outcome = 'worse')::int AS worse
       FROM remediation_outcomes o JOIN incidents i ON i.id = o.incident_id
       WHERE o.scope = $1 AND ($2::text IS NULL OR o.fault_class = $2) AND ($3::text IS NULL OR o.tool = $3)
         AND ($4::timestamptz IS NULL OR i.opened_at <= $4) AND NOT (o.incident_id = ANY($5::text[]))
       GROUP BY o.fault_class, o.tool ORDER BY attempts DESC, o.fault_class, o.tool`,
      [this.scope, only.faultClass ?? null, only.tool ?? null, this.view.asOf ?? null, this.view.exclude ?? []],
    );
    return result.rows.map((r) => ({
      faultClass: r.fault_class,
      tool: r.tool,
      attempts: r.attempts,
      recovered: r.recovered,
      notRecovered: r.not_recovered,
      worse: r.worse,
      successRate: r.attempts === 0 ? 0 : r.recovered / r.attempts,
      rollbackRate: r.attempts === 0 ? 0 : r.worse / r.attempts,
    }));
  }

  /** Success and rollback rates per (fault class, remediation), most used first. */
  async stats(): Promise<RemediationStats[]> {
    return this.outcomeCounts();
  }

  /** The rates of one remediation for one fault class (zero counts when never tried). */
  async statsFor(faultClass: string, tool: string): Promise<RemediationStats> {
    const [found] = await this.outcomeCounts({ faultClass, tool });
    return found ?? { faultClass, tool, attempts: 0, recovered: 0, notRecovered: 0, worse: 0, successRate: 0, rollbackRate: 0 };
  }

  /** Entries per kind in this scope. */
  async count(): Promise<{ incidents: number; runbooks: number }> {
    const rows = (await this.db.pool.query<{ kind: string; n: number }>("SELECT kind, count(*)::int AS n FROM incident_memory WHERE scope = $1 GROUP BY kind", [this.scope])).rows;
    return { incidents: rows.find((r) => r.kind === "incident")?.n ?? 0, runbooks: rows.find((r) => r.kind === "runbook")?.n ?? 0 };
  }

  /** Re-embeds every stored entry (all scopes) with the configured embedder and records it. */
  async reembed(): Promise<number> {
    const rows = (await this.db.pool.query<{ id: number; text: string; details: { doc?: WeightedText[] } }>("SELECT id::int AS id, text, details FROM incident_memory ORDER BY id")).rows;
    for (const r of rows) {
      const [v] = await this.embedder.embed([r.details.doc ?? [{ text: r.text, weight: 1 }]]);
      await this.db.pool.query("UPDATE incident_memory SET embedding = $2::vector WHERE id = $1", [r.id, pgvector.toSql(v ?? [])]);
    }
    await this.db.pool.query(
      `INSERT INTO memory_settings (key, value) VALUES ('embedder', $1)
       ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()`,
      [JSON.stringify({ id: this.embedder.id, dimensions: this.embedder.dimensions })],
    );
    this.checked = true;
    return rows.length;
  }
}
