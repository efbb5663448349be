import type { WorkloadRef } from "../domain/deploys.js";
import type { RegressionFinding, RegressionWatch, WatchStatus } from "../domain/regressions.js";
import { redactValue } from "../domain/secrets.js";
import type { Queryable } from "./database.js";

/** A workload's stored baseline: the serialized baseline and vocabulary, and how far logs were counted. */
export interface StoredBaseline {
  baseline: unknown;
  vocabulary: unknown;
  /** Environment time (epoch ms) up to which logs were counted. */
  observedTo: number;
}

/** A workload's baseline in a scope, or undefined before its first bucket. */
export async function loadBaseline(q: Queryable, workload: WorkloadRef, scope = ""): Promise<StoredBaseline | undefined> {
  const rows = await q.query<{ baseline: unknown; vocabulary: unknown; observed_to: string }>(
    "SELECT baseline, vocabulary, observed_to::text AS observed_to FROM signature_baselines WHERE namespace = $1 AND name = $2 AND scope = $3",
    [workload.namespace, workload.name, scope],
  );
  const r = rows.rows[0];
  return r === undefined ? undefined : { baseline: r.baseline, vocabulary: r.vocabulary, observedTo: Number(r.observed_to) };
}

/** Writes a workload's baseline (exemplars redacted again: no secret reaches the table). */
export async function saveBaseline(q: Queryable, workload: WorkloadRef, stored: StoredBaseline, scope = ""): Promise<void> {
  await q.query(
    `INSERT INTO signature_baselines (namespace, name, baseline, vocabulary, observed_to, scope) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (scope, namespace, name) DO UPDATE SET baseline = EXCLUDED.baseline, vocabulary = EXCLUDED.vocabulary, observed_to = EXCLUDED.observed_to, updated_at = now()`,
    [workload.namespace, workload.name, JSON.stringify(stored.baseline), JSON.stringify(redactValue(stored.vocabulary)), stored.observedTo, scope],
  );
}

interface WatchRow {
  deploy_id: string;
  namespace: string;
  name: string;
  version: string;
  at: Date;
  source: "webhook" | "cluster";
  scope: string;
  status: WatchStatus;
  looks: number;
  last_look_at: string | null;
  reason: string;
  finding: RegressionFinding | null;
  incident_id: string | null;
}

const WATCH_SELECT = `SELECT w.deploy_id::text AS deploy_id, d.namespace, d.name, d.version, d.at, d.source, d.scope, w.status, w.looks,
  w.last_look_at::text AS last_look_at, w.reason, w.finding, w.incident_id
  FROM regression_watches w JOIN deploys d ON d.id = w.deploy_id`;

function toWatch(r: WatchRow): RegressionWatch {
  return {
    deployId: Number(r.deploy_id),
    workload: { namespace: r.namespace, name: r.name },
    version: r.version,
    deployAt: r.at,
    source: r.source,
    scope: r.scope,
    status: r.status,
    looks: r.looks,
    lastLookAt: r.last_look_at === null ? null : Number(r.last_look_at),
    reason: r.reason,
    finding: r.finding,
    incidentId: r.incident_id,
  };
}

/** Starts watching a deploy (once: a second call finds the first watch). */
export async function startWatch(q: Queryable, deployId: number): Promise<RegressionWatch> {
  await q.query("INSERT INTO regression_watches (deploy_id, status, reason) VALUES ($1, 'watching', 'watch started') ON CONFLICT (deploy_id) DO NOTHING", [deployId]);
  const w = await watchOf(q, deployId);
  if (w === undefined) throw new Error(`the watch of deploy ${deployId} was started but cannot be found`);
  return w;
}

/** One deploy's watch, or undefined when the deploy is not watched. */
export async function watchOf(q: Queryable, deployId: number): Promise<RegressionWatch | undefined> {
  const rows = await q.query<WatchRow>(`${WATCH_SELECT} WHERE w.deploy_id = $1`, [deployId]);
  const r = rows.rows[0];
  return r === undefined ? undefined : toWatch(r);
}

/** What one look decided. */
export interface WatchUpdate {
  status: WatchStatus;
  lookAt: number;
  reason: string;
  finding?: RegressionFinding;
  incidentId?: string;
}

/**
 * Records a look at a deploy. Only a watch still `watching` moves: a final verdict is never
 * overwritten, so two workers looking at once cannot open two incidents (the loser gets false).
 */
export async function recordLook(q: Queryable, deployId: number, u: WatchUpdate): Promise<boolean> {
  const res = await q.query(
    `UPDATE regression_watches SET status = $2, looks = looks + 1, last_look_at = $3, reason = $4, finding = COALESCE($5, finding), incident_id = COALESCE($6, incident_id), updated_at = now()
     WHERE deploy_id = $1 AND status = 'watching'`,
    [deployId, u.status, u.lookAt, u.reason, u.finding === undefined ? null : JSON.stringify(redactValue(u.finding)), u.incidentId ?? null],
  );
  return (res.rowCount ?? 0) > 0;
}

/** Watches still looking in a scope, oldest deploy first. */
export async function openWatches(q: Queryable, scope = ""): Promise<RegressionWatch[]> {
  const rows = await q.query<WatchRow>(`${WATCH_SELECT} WHERE w.status = 'watching' AND d.scope = $1 ORDER BY d.at, d.id`, [scope]);
  return rows.rows.map(toWatch);
}

/** The newest watches, newest deploy first (every scope unless one is given). */
export async function recentWatches(q: Queryable, limit: number, scope?: string): Promise<RegressionWatch[]> {
  const rows =
    scope === undefined
      ? await q.query<WatchRow>(`${WATCH_SELECT} ORDER BY d.at DESC, d.id DESC LIMIT $1`, [limit])
      : await q.query<WatchRow>(`${WATCH_SELECT} WHERE d.scope = $2 ORDER BY d.at DESC, d.id DESC LIMIT $1`, [limit, scope]);
  return rows.rows.map(toWatch);
}

/** The regression an incident was opened on, or undefined for an incident an alert opened. */
export async function regressionOfIncident(q: Queryable, incidentId: string): Promise<RegressionWatch | undefined> {
  const rows = await q.query<WatchRow>(`${WATCH_SELECT} WHERE w.incident_id = $1`, [incidentId]);
  const r = rows.rows[0];
  return r === undefined ? undefined : toWatch(r);
}

/** Watches by status (for `/metrics`). */
export async function watchesByStatus(q: Queryable): Promise<Array<{ status: WatchStatus; n: number }>> {
  const rows = await q.query<{ status: WatchStatus; n: number }>("SELECT status, count(*)::int AS n FROM regression_watches GROUP BY status");
  return rows.rows;
}
