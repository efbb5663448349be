import { OPEN_STATUSES } from "../domain/incident.js";
import type { Queryable } from "./database.js";

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

/** The action registered under an idempotency key, if any. */
export async function findActionByKey(q: Queryable, key: string): Promise<ActionRow | undefined> {
  const result = await q.query<ActionRow>(`SELECT ${ACTION_COLUMNS} FROM actions WHERE idempotency_key = $1`, [key]);
  return result.rows[0];
}

/**
 * Registers an action (status `registered`) unless its idempotency key exists; returns the row
 * either way, so a re-run step sees what the first run did.
 */
export async function registerAction(q: Queryable, action: NewAction): Promise<ActionRow> {
  await q.query(
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
  const row = await findActionByKey(q, action.idempotencyKey);
  if (row === undefined) throw new Error(`action ${action.idempotencyKey} vanished after insert`);
  return row;
}

/**
 * Cancels a granted action that has not started (the workload changed under it); a later grant
 * of the same call under the same key registers it again.
 */
export async function cancelAction(q: Queryable, key: string): Promise<void> {
  await q.query("UPDATE actions SET status = 'cancelled', finished_at = now() WHERE idempotency_key = $1 AND status = 'registered'", [key]);
}

/** The newest action id recorded so far (0 when none): actions after it were not seen by a reader that kept it. */
export async function latestActionId(q: Queryable): Promise<number> {
  const result = await q.query<{ id: number }>("SELECT COALESCE(max(id), 0)::int AS id FROM actions");
  return result.rows[0]?.id ?? 0;
}

/** A row of `actions` as the foreign-action queries select it. */
interface ForeignActionRow {
  id: number;
  incident_id: string;
  kind: ForeignAction["kind"];
  tool: string;
  target_service: string;
  status: ActionRow["status"];
  verdict: ActionRow["verdict"];
  env_time: Date | null;
}

const FOREIGN_ACTION_COLUMNS = "a.id::int AS id, a.incident_id, a.kind, a.tool, a.target_service, a.status, a.verdict, a.env_time";

function toForeignAction(r: ForeignActionRow): ForeignAction {
  return {
    id: r.id,
    incidentId: r.incident_id,
    kind: r.kind,
    tool: r.tool,
    targetService: r.target_service,
    status: r.status,
    verdict: r.verdict,
    envTime: r.env_time?.getTime() ?? null,
  };
}

/**
 * Actions other incidents ran (or started) on these workloads of one environment, newest first:
 * those after `afterId` only, or those granted since `sinceEnvTime` (environment epoch ms).
 */
export async function foreignActions(
  q: Queryable,
  query: { environmentId: string; namespace: string; services: string[]; excludeIncident: string; afterId?: number; sinceEnvTime?: number },
): Promise<ForeignAction[]> {
  const result = await q.query<ForeignActionRow>(
    `SELECT ${FOREIGN_ACTION_COLUMNS}
     FROM actions a JOIN incidents i ON i.id = a.incident_id
     WHERE i.environment_id = $1 AND a.namespace = $2 AND a.target_service = ANY($3::text[]) AND a.incident_id <> $4
       AND a.status IN ('executing', 'succeeded', 'failed') AND a.id > $5 AND ($6::timestamptz IS NULL OR a.env_time >= $6)
     ORDER BY a.id DESC LIMIT 20`,
    [query.environmentId, query.namespace, query.services, query.excludeIncident, query.afterId ?? 0, query.sinceEnvTime !== undefined ? new Date(query.sinceEnvTime) : null],
  );
  return result.rows.map(toForeignAction);
}

/**
 * Actions other incidents have under way in one namespace of an environment, oldest first:
 * granted and not yet run, running, or run and not yet verified. Evidence gathered while one is
 * under way shows the workload mid-change.
 */
export async function unsettledForeignActions(q: Queryable, query: { environmentId: string; namespace: string; excludeIncident: string }): Promise<ForeignAction[]> {
  const result = await q.query<ForeignActionRow>(
    `SELECT ${FOREIGN_ACTION_COLUMNS}
     FROM actions a JOIN incidents i ON i.id = a.incident_id
     WHERE i.environment_id = $1 AND a.namespace = $2 AND a.incident_id <> $3 AND a.target_service IS NOT NULL
       AND (a.status IN ('registered', 'executing') OR (a.status = 'succeeded' AND a.verdict IS NULL AND a.after_signals IS NULL))
     ORDER BY a.id LIMIT 50`,
    [query.environmentId, query.namespace, query.excludeIncident],
  );
  return result.rows.map(toForeignAction);
}

/** Another incident's executed action that has not been verified yet, and when it ran. */
export interface SettlingAction {
  id: number;
  incidentId: string;
  tool: string;
  executedAt: Date;
}

/**
 * Actions other, still open incidents ran on one workload and have not verified yet (they are
 * settling; on the wall clock their incident waits in the queue, holding no lock), oldest first.
 */
export async function settlingForeignActions(q: Queryable, query: { environmentId: string; namespace: string; service: string; excludeIncident: string }): Promise<SettlingAction[]> {
  const result = await q.query<{ id: number; incident_id: string; tool: string; executed_at: Date }>(
    `SELECT a.id::int AS id, a.incident_id, a.tool, a.executed_at
     FROM actions a JOIN incidents i ON i.id = a.incident_id
     WHERE i.environment_id = $1 AND a.namespace = $2 AND a.target_service = $3 AND a.incident_id <> $4
       AND a.status IN ('executing', 'succeeded') AND a.verdict IS NULL AND a.after_signals IS NULL AND a.executed_at IS NOT NULL
       AND i.status = ANY($5::text[])
     ORDER BY a.id LIMIT 20`,
    [query.environmentId, query.namespace, query.service, query.excludeIncident, OPEN_STATUSES],
  );
  return result.rows.map((r) => ({ id: r.id, incidentId: r.incident_id, tool: r.tool, executedAt: r.executed_at }));
}

/** The actions with these ids as they stand now (any incident, any status). */
export async function actionsByIds(q: Queryable, ids: readonly number[]): Promise<ForeignAction[]> {
  if (ids.length === 0) return [];
  const result = await q.query<ForeignActionRow>(`SELECT ${FOREIGN_ACTION_COLUMNS} FROM actions a WHERE a.id = ANY($1::bigint[]) ORDER BY a.id`, [ids]);
  return result.rows.map(toForeignAction);
}

/** Marks an action as about to run. */
export async function markExecuting(q: Queryable, id: number): Promise<void> {
  await q.query("UPDATE actions SET status = 'executing', executed_at = now() WHERE id = $1", [id]);
}

/** Records the end of an action. */
export async function markFinished(q: Queryable, id: number, status: "succeeded" | "failed", error?: string): Promise<void> {
  await q.query("UPDATE actions SET status = $2, error = $3, finished_at = now() WHERE id = $1", [id, status, error ?? null]);
}

/** Records the signals verify read after an action settled. */
export async function setAfterSignals(q: Queryable, id: number, after: unknown, verdict?: "recovered" | "not_recovered" | "worse"): Promise<void> {
  await q.query("UPDATE actions SET after_signals = $2, verdict = COALESCE($3, verdict) WHERE id = $1", [id, JSON.stringify(after), verdict ?? null]);
}

/** Records the signals read just before a granted action runs. */
export async function setBeforeSignals(q: Queryable, id: number, before: unknown): Promise<void> {
  await q.query("UPDATE actions SET before_signals = $2 WHERE id = $1 AND before_signals IS NULL", [id, JSON.stringify(before)]);
}

/** All actions of an incident, in order. */
export async function actionsFor(q: Queryable, incidentId: string): Promise<ActionRow[]> {
  const result = await q.query<ActionRow>(`SELECT ${ACTION_COLUMNS} FROM actions WHERE incident_id = $1 ORDER BY id`, [incidentId]);
  return result.rows;
}
