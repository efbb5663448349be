import type pg from "pg";
import type { Alert } from "../domain/alerts/alert.js";
import { redactJsonText } from "../domain/secrets.js";
import type { Queryable } from "./database.js";
import { withTransaction, type Database } from "./database.js";

/** Lifecycle states of an incident row. */
export type IncidentStatus =
  | "queued"
  | "open"
  | "running"
  | "awaiting_approval"
  | "resolved"
  | "escalated"
  | "closed_no_action"
  | "resolved_by_source"
  | "dead_letter";

/** Statuses after which nothing more happens to an incident. */
export const TERMINAL_STATUSES: readonly IncidentStatus[] = ["resolved", "escalated", "closed_no_action", "resolved_by_source", "dead_letter"];

/** Statuses of an incident that new notifications for its fingerprint attach to. */
export const OPEN_STATUSES: readonly IncidentStatus[] = ["queued", "open", "running", "awaiting_approval"];

/** An incident as stored. */
export interface IncidentRow {
  id: string;
  fingerprint: string;
  alert_name: string;
  service: string;
  severity: string;
  status: IncidentStatus;
  scenario: string | null;
  environment_id: string | null;
  summary: string | null;
  brief: unknown;
  opened_at: Date;
  updated_at: Date;
  closed_at: Date | null;
  forked_from: string | null;
  forked_at_checkpoint: string | null;
  replay_mode: "dry-run" | "live" | null;
  /** The last error of the incident's queue job (dead letters say why here). */
  last_error?: string | null;
}

/** An approval request and, once made, its decision. */
export interface ApprovalRow {
  id: number;
  incident_id: string;
  request_key: string;
  call: { tool: string; params: Record<string, unknown> };
  risk: string;
  reasons: string[];
  requested_at: Date;
  expires_at: Date;
  decision: "approved" | "rejected" | "expired" | null;
  approver: string | null;
  note: string | null;
  approved_call: { tool: string; params: Record<string, unknown> } | null;
  decided_at: Date | null;
}

/** An undecided approval request with what an approver needs to know about its incident. */
export type PendingApproval = ApprovalRow & {
  service: string;
  alert_name: string;
  expired: boolean;
  /** The incident this one replays, when it is a replay (approving a dry run executes nothing). */
  forked_from: string | null;
  replay_mode: "dry-run" | "live" | null;
};

/** An action as stored. */
export interface ActionRow {
  id: number;
  incident_id: string;
  attempt: number;
  kind: "remediation" | "rollback";
  tool: string;
  params: Record<string, unknown>;
  risk: string;
  action_class: string;
  target_service: string | null;
  idempotency_key: string;
  status: "registered" | "executing" | "succeeded" | "failed" | "cancelled";
  rollback_call: { tool: string; params: Record<string, unknown> } | null;
  rollback_of: number | null;
  before_signals: unknown;
  after_signals: unknown;
  error: string | null;
  namespace: string | null;
  /** Environment time the action was granted (registered). */
  env_time: Date | null;
  verdict: "recovered" | "not_recovered" | "worse" | null;
  created_at: Date;
  executed_at: Date | null;
  finished_at: Date | null;
}

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

/** A remediation or rollback about to be registered. */
export interface NewAction {
  incidentId: string;
  attempt: number;
  kind: "remediation" | "rollback";
  tool: string;
  params: Record<string, unknown>;
  risk: string;
  actionClass: string;
  targetService?: string;
  idempotencyKey: string;
  rollbackCall?: { tool: string; params: Record<string, unknown> } | null;
  rollbackOf?: number;
  beforeSignals?: unknown;
  /** Namespace of the workload acted on. */
  namespace?: string;
  /** Environment time of the grant, epoch ms. */
  envTime?: number;
}

const APPROVAL_COLUMNS = `id::int AS id, incident_id, request_key, call, risk, reasons, requested_at, expires_at, decision, approver, note, approved_call, decided_at`;

const ACTION_COLUMNS = `id::int AS id, incident_id, attempt, kind, tool, params, risk, action_class, target_service,
  idempotency_key, status, rollback_call, rollback_of::int AS rollback_of, before_signals, after_signals, error,
  namespace, env_time, verdict, created_at, executed_at, finished_at`;

/** An action another incident ran on a workload in the same environment. */
export interface ForeignAction {
  id: number;
  incidentId: string;
  kind: "remediation" | "rollback";
  tool: string;
  targetService: string;
  status: ActionRow["status"];
  verdict: ActionRow["verdict"];
  /** Environment time the action was granted, epoch ms. */
  envTime: number | null;
}

/** Thrown when an incident id is not in the database. */
export class UnknownIncidentError extends Error {
  constructor(id: string) {
    super(`unknown incident "${id}"; list incidents with \`suture incidents\``);
    this.name = "UnknownIncidentError";
  }
}

/** Reads and writes incidents, alerts, actions, the audit log and environment snapshots. */
export class IncidentStore {
  constructor(private readonly db: Database) {}

  /** Runs one query on the pool (the store is a {@link Queryable} for read-only ledgers). */
  query<R extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>> {
    return this.db.pool.query<R>(text, values);
  }

  /** Runs `work` in one transaction on one connection (rolled back if it throws). */
  transaction<T>(work: (client: Queryable) => Promise<T>): Promise<T> {
    return withTransaction(this.db, work);
  }

  /** Opens an incident row for an alert (no-op if it exists). */
  async createIncident(input: {
    id: string;
    alert: Alert;
    scenario?: string;
    environmentId?: string;
    forkedFrom?: string;
    forkedAtCheckpoint?: string;
    replayMode?: "dry-run" | "live";
  }): Promise<void> {
    await this.db.pool.query(
      `INSERT INTO incidents (id, fingerprint, alert_name, service, severity, status, scenario, environment_id, forked_from, forked_at_checkpoint, replay_mode)
       VALUES ($1, $2, $3, $4, $5, 'open', $6, $7, $8, $9, $10) ON CONFLICT (id) DO NOTHING`,
      [
        input.id,
        input.alert.fingerprint,
        input.alert.name,
        input.alert.service,
        input.alert.severity,
        input.scenario ?? null,
        input.environmentId ?? null,
        input.forkedFrom ?? null,
        input.forkedAtCheckpoint ?? null,
        input.replayMode ?? null,
      ],
    );
  }

  /** Records an approval request once (a re-run step finds the existing one). */
  async requestApproval(input: { incidentId: string; requestKey: string; call: unknown; risk: string; reasons: string[]; timeoutMinutes: number }): Promise<ApprovalRow> {
    await this.db.pool.query(
      `INSERT INTO approvals (incident_id, request_key, call, risk, reasons, expires_at)
       VALUES ($1, $2, $3, $4, $5, now() + make_interval(mins => $6)) ON CONFLICT (request_key) DO NOTHING`,
      [input.incidentId, input.requestKey, JSON.stringify(input.call), input.risk, JSON.stringify(input.reasons), input.timeoutMinutes],
    );
    const row = (await this.db.pool.query<ApprovalRow>(`SELECT ${APPROVAL_COLUMNS} FROM approvals WHERE request_key = $1`, [input.requestKey])).rows[0];
    if (row === undefined) throw new Error(`approval request ${input.requestKey} vanished after insert`);
    return row;
  }

  /** The newest approval request of an incident, decided or not. */
  async latestApproval(incidentId: string): Promise<ApprovalRow | undefined> {
    return (await this.db.pool.query<ApprovalRow>(`SELECT ${APPROVAL_COLUMNS} FROM approvals WHERE incident_id = $1 ORDER BY id DESC LIMIT 1`, [incidentId])).rows[0];
  }

  /**
   * Writes a decision on an undecided request; returns undefined when it was already decided,
   * so the same request can never be approved twice (even by two operators at once).
   */
  async decideApproval(requestKey: string, decision: "approved" | "rejected" | "expired", approver: string | null, note: string | null, approvedCall: unknown): Promise<ApprovalRow | undefined> {
    return (
      await this.db.pool.query<ApprovalRow>(
        `UPDATE approvals SET decision = $2, approver = $3, note = $4, approved_call = $5, decided_at = now()
         WHERE request_key = $1 AND decision IS NULL
           AND EXISTS (SELECT 1 FROM incidents i WHERE i.id = approvals.incident_id AND i.status = 'awaiting_approval')
         RETURNING ${APPROVAL_COLUMNS}`,
        [requestKey, decision, approver, note, approvedCall === null ? null : JSON.stringify(approvedCall)],
      )
    ).rows[0];
  }

  /** Undecided approval requests, oldest first, with their incidents. */
  async pendingApprovals(): Promise<Array<PendingApproval>> {
    return (
      await this.db.pool.query<PendingApproval>(
        `SELECT a.id::int AS id, a.incident_id, a.request_key, a.call, a.risk, a.reasons, a.requested_at, a.expires_at, a.decision,
           a.approver, a.note, a.approved_call, a.decided_at, i.service, i.alert_name, a.expires_at < now() AS expired,
           i.forked_from, i.replay_mode
         FROM approvals a JOIN incidents i ON i.id = a.incident_id WHERE a.decision IS NULL AND i.status = 'awaiting_approval' ORDER BY a.requested_at, a.id`,
      )
    ).rows;
  }

  /** Every approval of an incident, in order. */
  async approvalsFor(incidentId: string): Promise<ApprovalRow[]> {
    return (await this.db.pool.query<ApprovalRow>(`SELECT ${APPROVAL_COLUMNS} FROM approvals WHERE incident_id = $1 ORDER BY id`, [incidentId])).rows;
  }

  /** Stores one alert notification verbatim (but for redacted secrets), optionally attached to an incident. */
  async recordAlert(input: { incidentId?: string; alert: Alert; rawBody: string; endsAt?: string }): Promise<number> {
    const result = await this.db.pool.query<{ id: number }>(
      `INSERT INTO alerts (incident_id, source, fingerprint, alert_name, status, starts_at, ends_at, raw_body, normalized)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id::int AS id`,
      [
        input.incidentId ?? null,
        input.alert.source,
        input.alert.fingerprint,
        input.alert.name,
        input.alert.status,
        input.alert.startsAt,
        input.endsAt ?? null,
        redactJsonText(input.rawBody),
        JSON.stringify(input.alert),
      ],
    );
    const row = result.rows[0];
    if (row === undefined) throw new Error("alert insert returned no id");
    return row.id;
  }

  /** Notifications for one fingerprint whose alert started at or after `since`, oldest first. */
  async alertHistory(fingerprint: string, since: Date): Promise<Array<{ status: string; startsAt: Date }>> {
    const result = await this.db.pool.query<{ status: string; starts_at: Date }>(
      `SELECT status, starts_at FROM alerts WHERE fingerprint = $1 AND starts_at >= $2 ORDER BY starts_at, id`,
      [fingerprint, since],
    );
    return result.rows.map((r) => ({ status: r.status, startsAt: r.starts_at }));
  }

  /** Updates an incident's status, and its summary and brief when given. */
  async setIncidentStatus(id: string, status: IncidentStatus, summary?: string, brief?: unknown): Promise<void> {
    const terminal = TERMINAL_STATUSES.includes(status);
    await this.db.pool.query(
      `UPDATE incidents SET status = $2, summary = COALESCE($3, summary), brief = COALESCE($4, brief),
         updated_at = now(), closed_at = CASE WHEN $5 THEN COALESCE(closed_at, now()) ELSE NULL END
       WHERE id = $1`,
      [id, status, summary ?? null, brief === undefined ? null : JSON.stringify(brief), terminal],
    );
  }

  /** One incident, or an {@link UnknownIncidentError}. */
  async getIncident(id: string): Promise<IncidentRow> {
    const result = await this.db.pool.query<IncidentRow>("SELECT * FROM incidents WHERE id = $1", [id]);
    const row = result.rows[0];
    if (row === undefined) throw new UnknownIncidentError(id);
    return row;
  }

  /** Most recent incidents first. */
  async listIncidents(limit = 50): Promise<IncidentRow[]> {
    const result = await this.db.pool.query<IncidentRow>(
      "SELECT * FROM incidents ORDER BY opened_at DESC, id DESC LIMIT $1",
      [limit],
    );
    return result.rows;
  }

  /** Appends to the audit log; an entry whose dedupe key already exists is not written again. */
  async audit(entry: AuditEntry): Promise<void> {
    await this.db.pool.query(
      `INSERT INTO audit_log (incident_id, actor, kind, summary, detail, env_time, dedupe_key)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (dedupe_key) DO NOTHING`,
      [
        entry.incidentId,
        entry.actor,
        entry.kind,
        entry.summary,
        JSON.stringify(entry.detail ?? {}),
        entry.envTime === undefined ? null : new Date(entry.envTime),
        entry.dedupeKey ?? null,
      ],
    );
  }

  /** Records what one reasoner's model calls cost in one diagnosis round; a re-run round is not counted again. */
  async recordModelUsage(incidentId: string, round: number, reasoner: string, usage: { model: string; modelTokens: number; modelCostUsd: number }): Promise<void> {
    await this.db.pool.query(
      `INSERT INTO model_usage (incident_id, round, reasoner, model, tokens, cost_usd) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (incident_id, round, reasoner, model) DO NOTHING`,
      [incidentId, round, reasoner, usage.model, usage.modelTokens, usage.modelCostUsd],
    );
  }

  /** Model tokens and estimated cost of one incident, per model. */
  async modelUsageFor(incidentId: string): Promise<Array<{ model: string; rounds: number; tokens: number; costUsd: number }>> {
    const result = await this.db.pool.query<{ model: string; rounds: number; tokens: string; cost_usd: number }>(
      `SELECT model, count(*)::int AS rounds, sum(tokens)::text AS tokens, sum(cost_usd)::float8 AS cost_usd
       FROM model_usage WHERE incident_id = $1 GROUP BY model ORDER BY model`,
      [incidentId],
    );
    return result.rows.map((r) => ({ model: r.model, rounds: r.rounds, tokens: Number(r.tokens), costUsd: Number(r.cost_usd) }));
  }

  /** The audit trail of one incident, in order. */
  async auditFor(incidentId: string): Promise<AuditRow[]> {
    const result = await this.db.pool.query<AuditRow>(
      "SELECT id::int AS id, incident_id, at, env_time, actor, kind, summary, detail FROM audit_log WHERE incident_id = $1 ORDER BY id",
      [incidentId],
    );
    return result.rows;
  }

  /** The action registered under an idempotency key, if any. */
  async findActionByKey(key: string, db: Queryable = this.db.pool): Promise<ActionRow | undefined> {
    const result = await db.query<ActionRow>(
      `SELECT ${ACTION_COLUMNS} FROM actions WHERE idempotency_key = $1`,
      [key],
    );
    return result.rows[0];
  }

  /**
   * Registers an action (status `registered`) unless its idempotency key exists; returns the row
   * either way, so a re-run step sees what the first run did.
   */
  async registerAction(action: NewAction, db: Queryable = this.db.pool): Promise<ActionRow> {
    await db.query(
      `INSERT INTO actions (incident_id, attempt, kind, tool, params, risk, action_class, target_service,
         idempotency_key, status, rollback_call, rollback_of, before_signals, namespace, env_time)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'registered', $10, $11, $12, $13, $14)
       ON CONFLICT (idempotency_key) DO UPDATE SET status = 'registered', rollback_call = EXCLUDED.rollback_call,
         before_signals = EXCLUDED.before_signals, env_time = EXCLUDED.env_time, created_at = now()
       WHERE actions.status = 'cancelled'`,
      [
        action.incidentId,
        action.attempt,
        action.kind,
        action.tool,
        JSON.stringify(action.params),
        action.risk,
        action.actionClass,
        action.targetService ?? null,
        action.idempotencyKey,
        action.rollbackCall === undefined || action.rollbackCall === null ? null : JSON.stringify(action.rollbackCall),
        action.rollbackOf ?? null,
        action.beforeSignals === undefined ? null : JSON.stringify(action.beforeSignals),
        action.namespace ?? null,
        action.envTime !== undefined ? new Date(action.envTime) : null,
      ],
    );
    const row = await this.findActionByKey(action.idempotencyKey, db);
    if (row === undefined) throw new Error(`action ${action.idempotencyKey} vanished after insert`);
    return row;
  }

  /**
   * Cancels a granted action that has not started (the workload changed under it); a later grant
   * of the same call under the same key registers it again.
   */
  async cancelAction(key: string): Promise<void> {
    await this.db.pool.query("UPDATE actions SET status = 'cancelled', finished_at = now() WHERE idempotency_key = $1 AND status = 'registered'", [key]);
  }

  /** The newest action id recorded so far (0 when none): actions after it were not seen by a reader that kept it. */
  async latestActionId(): Promise<number> {
    const result = await this.db.pool.query<{ id: number }>("SELECT COALESCE(max(id), 0)::int AS id FROM actions");
    return result.rows[0]?.id ?? 0;
  }

  /**
   * Actions other incidents ran (or started) on these workloads of one environment, newest first:
   * those after `afterId` only, or those granted since `sinceEnvTime` (environment epoch ms).
   */
  async foreignActions(q: { environmentId: string; namespace: string; services: string[]; excludeIncident: string; afterId?: number; sinceEnvTime?: number }): Promise<ForeignAction[]> {
    const result = await this.db.pool.query<{ id: number; incident_id: string; kind: ForeignAction["kind"]; tool: string; target_service: string; status: ActionRow["status"]; verdict: ActionRow["verdict"]; env_time: Date | null }>(
      `SELECT a.id::int AS id, a.incident_id, a.kind, a.tool, a.target_service, a.status, a.verdict, a.env_time
       FROM actions a JOIN incidents i ON i.id = a.incident_id
       WHERE i.environment_id = $1 AND a.namespace = $2 AND a.target_service = ANY($3::text[]) AND a.incident_id <> $4
         AND a.status IN ('executing', 'succeeded', 'failed') AND a.id > $5 AND ($6::timestamptz IS NULL OR a.env_time >= $6)
       ORDER BY a.id DESC LIMIT 20`,
      [q.environmentId, q.namespace, q.services, q.excludeIncident, q.afterId ?? 0, q.sinceEnvTime !== undefined ? new Date(q.sinceEnvTime) : null],
    );
    return result.rows.map((r) => ({
      id: r.id,
      incidentId: r.incident_id,
      kind: r.kind,
      tool: r.tool,
      targetService: r.target_service,
      status: r.status,
      verdict: r.verdict,
      envTime: r.env_time?.getTime() ?? null,
    }));
  }

  /** Marks an action as about to run. */
  async markExecuting(id: number): Promise<void> {
    await this.db.pool.query("UPDATE actions SET status = 'executing', executed_at = now() WHERE id = $1", [id]);
  }

  /** Records the end of an action. */
  async markFinished(id: number, status: "succeeded" | "failed", error?: string): Promise<void> {
    await this.db.pool.query("UPDATE actions SET status = $2, error = $3, finished_at = now() WHERE id = $1", [
      id,
      status,
      error ?? null,
    ]);
  }

  /** Records the signals verify read after an action settled. */
  async setAfterSignals(id: number, after: unknown, verdict?: "recovered" | "not_recovered" | "worse"): Promise<void> {
    await this.db.pool.query("UPDATE actions SET after_signals = $2, verdict = COALESCE($3, verdict) WHERE id = $1", [id, JSON.stringify(after), verdict ?? null]);
  }

  /** Records the signals read just before a granted action runs. */
  async setBeforeSignals(id: number, before: unknown): Promise<void> {
    await this.db.pool.query("UPDATE actions SET before_signals = $2 WHERE id = $1 AND before_signals IS NULL", [id, JSON.stringify(before)]);
  }

  /** All actions of an incident, in order. */
  async actionsFor(incidentId: string): Promise<ActionRow[]> {
    const result = await this.db.pool.query<ActionRow>(
      `SELECT ${ACTION_COLUMNS} FROM actions WHERE incident_id = $1 ORDER BY id`,
      [incidentId],
    );
    return result.rows;
  }

  /** Saves a simulated environment's snapshot. */
  async saveEnvironment(id: string, kind: string, spec: unknown, state: unknown): Promise<void> {
    await this.db.pool.query(
      `INSERT INTO environments (id, kind, spec, state) VALUES ($1, $2, $3, $4)
       ON CONFLICT (id) DO UPDATE SET state = EXCLUDED.state, updated_at = now()`,
      [id, kind, JSON.stringify(spec), JSON.stringify(state)],
    );
  }

  /** Loads a simulated environment's snapshot. */
  async loadEnvironment(id: string): Promise<{ kind: string; spec: unknown; state: unknown } | undefined> {
    const result = await this.db.pool.query<{ kind: string; spec: unknown; state: unknown }>(
      "SELECT kind, spec, state FROM environments WHERE id = $1",
      [id],
    );
    return result.rows[0];
  }
}
