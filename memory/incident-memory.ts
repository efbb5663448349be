import pgvector from "pgvector";
import type { Alert } from "../domain/alerts/alert.js";
import type { Database } from "../store/database.js";
import {
  insertRememberedIncident,
  memoryCounts,
  memoryDocuments,
  nearestMemory,
  remediationCounts,
  setEmbedder,
  setMemoryEmbedding,
  storedEmbedder,
  upsertRunbook,
  type MemoryRow,
} from "../store/memory.js";
import type { Attempt, IncidentContext, Outcome } from "../domain/model.js";
import { EMBEDDING_DIMENSIONS, type Embedder, type WeightedText } from "./embeddings.js";
import { alertDocument, documentText, incidentDocument } from "./incident-text.js";
import { readRunbooks, runbookDocument, type Runbook } from "./runbooks.js";
import { ConflictError } from "../domain/errors.js";

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
export class EmbedderMismatchError extends ConflictError {
  constructor(stored: string, configured: string) {
    super(
      `incident memory was embedded with "${stored}" but the configured embedder is "${configured}"; ` + "run `suture memory re-embed` to re-embed every entry, or configure the original embedder",
    );
    this.name = "EmbedderMismatchError";
  }
}

function toNeighbor(r: MemoryRow): MemoryNeighbor {
  return {
    id: r.id,
    kind: r.kind,
    incidentId: r.incident_id,
    title: r.title,
    service: r.service,
    similarity: Number(r.similarity),
    outcome: r.outcome as MemoryOutcome | null,
    faultClass: r.fault_class,
    remediation: r.remediation,
    attempts: r.attempts as RememberedAttempt[],
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
    const stored = await storedEmbedder(this.db.pool, { id: this.embedder.id, dimensions: this.embedder.dimensions });
    if (stored !== undefined && stored.id !== this.embedder.id) throw new EmbedderMismatchError(stored.id, this.embedder.id);
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
    // A call that failed never changed the world: its "not recovered" speaks of the adapter, not the remedy.
    const tried = input.attempts.filter((a) => a.status !== "failed");
    const { outcome, remediation } = memoryOutcome(input.outcome, tried);
    const doc = incidentDocument(input.alert, input.context);
    const embedding = await this.vector(doc);
    const attempts: RememberedAttempt[] = tried
      .filter((a) => a.verdict !== undefined)
      .map((a) => ({ faultClass: a.faultClass, tool: a.call.tool, actionClass: a.actionClass, verdict: a.verdict ?? "not_recovered" }));
    const started = new Date(input.alert.startsAt).getTime();
    const ttm = outcome === "resolved" ? Math.round((input.outcome.at - started) / 1000) : null;
    await insertRememberedIncident(this.db.pool, {
      scope: this.scope,
      incidentId: input.incidentId,
      title: `${input.alert.name} on ${input.alert.service}`,
      text: documentText(doc),
      embedding,
      alertName: input.alert.name,
      service: input.alert.service,
      faultClass: remediation?.faultClass ?? input.faultClass,
      remediation: remediation?.call.tool ?? null,
      actionClass: remediation?.actionClass ?? null,
      outcome,
      timeToMitigateS: ttm,
      attempts,
      details: { reason: input.outcome.reason, remediationCall: remediation?.call ?? null, doc },
      occurredAt: new Date(input.outcome.at),
      // A remedy's verdict judges what the remembered incidents that swayed it said of it.
      feedback: tried.flatMap((a) =>
        a.verdict === undefined
          ? []
          : (a.memory ?? []).map((m) => ({
              memoryIncidentId: m.incidentId,
              attempt: a.number,
              tool: a.call.tool,
              said: m.verdict,
              verified: a.verdict ?? "not_recovered",
              agrees: (m.verdict === "recovered") === (a.verdict === "recovered"),
            })),
      ),
      outcomes: tried.flatMap((a) =>
        a.verdict === undefined ? [] : [{ attempt: a.number, faultClass: a.faultClass, tool: a.call.tool, actionClass: a.actionClass, verdict: a.verdict, at: new Date(a.executedAt) }],
      ),
    });
  }

  private async nearest(embedding: string, k: number, kind: "incident" | "runbook" | undefined, excludeIncident?: string): Promise<MemoryNeighbor[]> {
    const rows = await nearestMemory(this.db.pool, {
      embedding,
      scope: this.scope,
      k,
      view: this.view,
      ...(kind !== undefined ? { kind } : {}),
      ...(excludeIncident !== undefined ? { excludeIncident } : {}),
    });
    return rows.map(toNeighbor);
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
      await upsertRunbook(this.db.pool, {
        scope: this.scope,
        name: r.name,
        text: documentText(doc),
        embedding: await this.vector(doc),
        details: { title: r.title, meaning: r.meaning, diagnosis: r.diagnosis, mitigation: r.mitigation, file: r.file, doc },
      });
    }
    return runbooks;
  }

  /**
   * Verified-attempt counts per (fault class, remediation), optionally for one pair; a replay's
   * view counts only incidents opened by its moment, without the excluded ones.
   */
  private async outcomeCounts(only: { faultClass?: string; tool?: string } = {}): Promise<RemediationStats[]> {
    const rows = await remediationCounts(this.db.pool, { scope: this.scope, view: this.view, ...only });
    return rows.map((r) => ({
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
    const rows = await memoryCounts(this.db.pool, this.scope);
    return { incidents: rows.find((r) => r.kind === "incident")?.n ?? 0, runbooks: rows.find((r) => r.kind === "runbook")?.n ?? 0 };
  }

  /** Re-embeds every stored entry (all scopes) with the configured embedder and records it. */
  async reembed(): Promise<number> {
    const rows = await memoryDocuments(this.db.pool);
    for (const r of rows) {
      const [v] = await this.embedder.embed([(r.details.doc as WeightedText[] | undefined) ?? [{ text: r.text, weight: 1 }]]);
      await setMemoryEmbedding(this.db.pool, r.id, pgvector.toSql(v ?? []) ?? "");
    }
    await setEmbedder(this.db.pool, { id: this.embedder.id, dimensions: this.embedder.dimensions });
    this.checked = true;
    return rows.length;
  }
}
