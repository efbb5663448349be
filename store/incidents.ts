import { randomUUID } from "node:crypto";
import type { Alert } from "../domain/alerts/alert.js";
import { INITIAL_STATUS, OPEN_STATUSES, statusesBefore, TERMINAL_STATUSES, type IncidentStatus } from "../domain/incident.js";
import type { Queryable } from "./database.js";
import { ConflictError, NotFoundError } from "../domain/errors.js";

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

/** Thrown when a status change the status machine does not allow is asked for; nothing was written. */
export class IncidentTransitionError extends ConflictError {
  constructor(id: string, from: IncidentStatus, to: IncidentStatus) {
    super(`incident "${id}" is ${from}; it cannot become ${to}`);
    this.name = "IncidentTransitionError";
  }
}

/** Thrown when an incident id is not in the database. */
export class UnknownIncidentError extends NotFoundError {
  constructor(id: string) {
    super(`unknown incident "${id}"; list incidents with \`suture incidents\``);
    this.name = "UnknownIncidentError";
  }
}

/** A new incident id: sortable by time, unique across processes. */
export function newIncidentId(): string {
  const stamp = new Date()
    .toISOString()
    .replace(/[-:TZ.]/g, "")
    .slice(0, 14);
  return `inc-${stamp}-${randomUUID().slice(0, 6)}`;
}

/** What opens an incident: its alert, and where it runs. */
export interface NewIncident {
  /** The id to use (default: a fresh one). */
  id?: string;
  alert: Alert;
  /** The world it runs against (a fleet world, or its own for a scenario run); null when none covers it. */
  environmentId?: string | null;
  /** Where the alert came from (alertmanager, pagerduty, generic; absent for scenario runs). */
  source?: string;
  scenario?: string;
  forkedFrom?: string;
  forkedAtCheckpoint?: string;
  replayMode?: "dry-run" | "live";
  /** Only for an imported incident, which arrives in the status it was exported in. */
  importedStatus?: IncidentStatus;
}

/**
 * Opens an incident: the one way an incident row is created, in {@link INITIAL_STATUS} (an import
 * keeps its exported status). A no-op if the id exists. Returns the id.
 */
export async function createIncident(q: Queryable, input: NewIncident): Promise<string> {
  const id = input.id ?? newIncidentId();
  await q.query(
    `INSERT INTO incidents (id, fingerprint, alert_name, service, severity, status, scenario, environment_id, forked_from, forked_at_checkpoint, replay_mode, source)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (id) DO NOTHING`,
    [
      id,
      input.alert.fingerprint,
      input.alert.name,
      input.alert.service,
      input.alert.severity,
      input.importedStatus ?? INITIAL_STATUS,
      input.scenario ?? null,
      input.environmentId ?? null,
      input.forkedFrom ?? null,
      input.forkedAtCheckpoint ?? null,
      input.replayMode ?? null,
      input.source ?? null,
    ],
  );
  return id;
}

/** Records the workload an incident's alert resolved to, and the world it runs in (a cluster namespace may change with the lookup). */
export async function setIncidentTarget(q: Queryable, id: string, service: string, environmentId: string | null): Promise<void> {
  await q.query("UPDATE incidents SET service = $2, environment_id = $3, updated_at = now() WHERE id = $1", [id, service, environmentId]);
}

/**
 * Moves an incident to a status (and sets its summary and brief when given), if the status
 * machine allows it from the status it is in (domain/incident.ts); otherwise nothing is written
 * and an {@link IncidentTransitionError} says why.
 */
export async function setIncidentStatus(q: Queryable, id: string, status: IncidentStatus, summary?: string, brief?: unknown): Promise<void> {
  const terminal = TERMINAL_STATUSES.includes(status);
  const updated = await q.query(
    `UPDATE incidents SET status = $2, summary = COALESCE($3, summary), brief = COALESCE($4, brief),
       updated_at = now(), closed_at = CASE WHEN $5 THEN COALESCE(closed_at, now()) ELSE NULL END
     WHERE id = $1 AND status = ANY($6::text[])`,
    [id, status, summary ?? null, brief === undefined ? null : JSON.stringify(brief), terminal, statusesBefore(status)],
  );
  if ((updated.rowCount ?? 0) > 0) return;
  const current = await getIncident(q, id);
  throw new IncidentTransitionError(id, current.status, status);
}

/** One incident, or an {@link UnknownIncidentError}. */
export async function getIncident(q: Queryable, id: string): Promise<IncidentRow> {
  const result = await q.query<IncidentRow>("SELECT * FROM incidents WHERE id = $1", [id]);
  const row = result.rows[0];
  if (row === undefined) throw new UnknownIncidentError(id);
  return row;
}

/** Which incidents a list shows. */
export interface IncidentFilter {
  statuses?: string[];
  service?: string;
  since?: string;
  limit: number;
}

/** One line per incident, as the API lists them. */
export type IncidentSummaryRow = Pick<
  IncidentRow,
  "id" | "status" | "service" | "alert_name" | "severity" | "fingerprint" | "summary" | "environment_id" | "opened_at" | "closed_at" | "last_error"
> & {
  source: string | null;
  started_at: Date | null;
  job_attempts: number;
};

/** Incidents newest first, filtered by status, workload and opening time. */
export async function listIncidents(q: Queryable, filter: IncidentFilter): Promise<IncidentSummaryRow[]> {
  const rows = await q.query<IncidentSummaryRow>(
    `SELECT id, status, service, alert_name, severity, fingerprint, source, summary, environment_id, opened_at, started_at, closed_at, job_attempts, last_error
     FROM incidents
     WHERE ($1::text[] IS NULL OR status = ANY($1::text[])) AND ($2::text IS NULL OR service = $2) AND ($3::timestamptz IS NULL OR opened_at >= $3)
     ORDER BY opened_at DESC, id DESC LIMIT $4`,
    [filter.statuses ?? null, filter.service ?? null, filter.since ?? null, filter.limit],
  );
  return rows.rows;
}

/** Most recent incidents first, whole rows (the CLI's list). */
export async function recentIncidents(q: Queryable, limit = 50): Promise<IncidentRow[]> {
  const result = await q.query<IncidentRow>("SELECT * FROM incidents ORDER BY opened_at DESC, id DESC LIMIT $1", [limit]);
  return result.rows;
}

/** The open incident a notification with this fingerprint belongs to, locked for the caller's transaction. */
export async function openIncidentForUpdate(q: Queryable, fingerprint: string): Promise<Pick<IncidentRow, "id" | "status"> | undefined> {
  const open = await q.query<Pick<IncidentRow, "id" | "status">>(
    `SELECT id, status FROM incidents WHERE fingerprint = $1 AND forked_from IS NULL AND status = ANY($2::text[])
     ORDER BY opened_at DESC LIMIT 1 FOR UPDATE`,
    [fingerprint, OPEN_STATUSES],
  );
  return open.rows[0];
}

/** A worker's claim on an incident: when it first started and whether this is the first claim. */
export interface Claim {
  startedAt: Date;
  openedAt: Date;
  first: boolean;
}

/**
 * Claims an open incident for a worker run: a queued one becomes running; the claim is counted
 * and the worker recorded. Nothing when the incident is no longer open.
 */
export async function claimIncident(q: Queryable, id: string, worker: string): Promise<Claim | undefined> {
  const claimed = await q.query<{ started_at: Date; opened_at: Date; first: boolean }>(
    `UPDATE incidents SET status = CASE WHEN status IN ('queued', 'open') THEN 'running' ELSE status END,
       started_at = COALESCE(started_at, clock_timestamp()), job_attempts = job_attempts + 1, worker = $3, updated_at = now()
     WHERE id = $1 AND status = ANY($2::text[]) RETURNING started_at, opened_at, job_attempts = 1 AS first`,
    [id, OPEN_STATUSES, worker],
  );
  const row = claimed.rows[0];
  return row === undefined ? undefined : { startedAt: row.started_at, openedAt: row.opened_at, first: row.first };
}

/** Records why an incident's queue job failed (dead letters say why here). */
export async function recordJobError(q: Queryable, id: string, message: string): Promise<void> {
  await q.query("UPDATE incidents SET last_error = $2, updated_at = now() WHERE id = $1", [id, message]);
}

/** Marks an incident whose job failed every retry as dead-lettered; returns its last error, or undefined if it had already ended. */
export async function deadLetterIncident(q: Queryable, id: string): Promise<{ lastError: string | null } | undefined> {
  const updated = await q.query<{ last_error: string | null }>(
    `UPDATE incidents SET status = 'dead_letter', updated_at = now(), closed_at = now(),
       summary = 'every retry of its job failed; see its last error (suture show), fix the cause, then \`suture retry\` it'
     WHERE id = $1 AND status = ANY($2::text[]) RETURNING last_error`,
    [id, statusesBefore("dead_letter").filter((s) => s !== "dead_letter")],
  );
  const row = updated.rows[0];
  return row === undefined ? undefined : { lastError: row.last_error };
}

/** Queues a dead-lettered incident again; false when it is not dead-lettered. */
export async function requeueDeadLetter(q: Queryable, id: string): Promise<boolean> {
  const row = await q.query("UPDATE incidents SET status = 'queued', closed_at = NULL, updated_at = now() WHERE id = $1 AND status = 'dead_letter' RETURNING id", [id]);
  return row.rows.length > 0;
}
