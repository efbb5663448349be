import type { Build, ChangedFile, Deploy, WorkloadRef } from "../domain/deploys.js";
import { redactSecrets } from "../domain/secrets.js";
import type { Queryable } from "./database.js";

/** What storing a deploy or build did: its id, and whether an identical one was stored before (a retried webhook). */
export interface Recorded {
  id: number;
  duplicate: boolean;
}

/** A stored deploy marker: the deploy as validated, with its id, its times as dates and null for what the sender left out. */
export type StoredDeploy = Omit<Deploy, "commit" | "migration" | "at"> & {
  id: number;
  commit: string | null;
  at: Date;
  /** Null when the sender did not say. */
  migration: boolean | null;
  receivedAt: Date;
};

interface DeployRow {
  id: string;
  namespace: string;
  name: string;
  version: string;
  commit_id: string | null;
  changed_files: ChangedFile[];
  author: string;
  at: Date;
  migration: boolean | null;
  source: "webhook" | "cluster";
  received_at: Date;
}

const DEPLOY_COLUMNS = "id::text AS id, namespace, name, version, commit_id, changed_files, author, at, migration, source, received_at";

function toDeploy(r: DeployRow): StoredDeploy {
  return {
    id: Number(r.id),
    workload: { namespace: r.namespace, name: r.name },
    version: r.version,
    commit: r.commit_id,
    changedFiles: r.changed_files,
    author: r.author,
    at: r.at,
    migration: r.migration,
    source: r.source,
    receivedAt: r.received_at,
  };
}

/**
 * Inserts one row unless its natural key exists, returning the id either way. ON CONFLICT DO
 * NOTHING returns no row on a duplicate; the unique constraint guarantees the select then finds
 * the first one, even when two retries race.
 */
async function insertOnce(q: Queryable, insert: { text: string; values: unknown[] }, existing: { text: string; values: unknown[] }): Promise<Recorded> {
  const inserted = await q.query<{ id: string }>(insert.text, insert.values);
  const id = inserted.rows[0]?.id;
  if (id !== undefined) return { id: Number(id), duplicate: false };
  const found = await q.query<{ id: string }>(existing.text, existing.values);
  const first = found.rows[0]?.id;
  if (first === undefined) throw new Error("a duplicate deploy or build was refused by its unique key but cannot be found");
  return { id: Number(first), duplicate: true };
}

/**
 * Stores a deploy marker once per (scope, workload, version, time): a retried webhook gets the
 * first one's id back. The scope is '' for the cluster Suture runs against, a run's own for a
 * scenario's simulated world.
 */
export async function recordDeploy(q: Queryable, d: Deploy, scope = ""): Promise<Recorded> {
  const key = [d.workload.namespace, d.workload.name, d.version, d.at, scope];
  return insertOnce(
    q,
    {
      text: `INSERT INTO deploys (namespace, name, version, at, scope, commit_id, changed_files, author, migration, source)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (scope, namespace, name, version, at) DO NOTHING RETURNING id::text AS id`,
      values: [...key, d.commit ?? null, JSON.stringify(d.changedFiles), d.author, d.migration ?? null, d.source],
    },
    { text: "SELECT id::text AS id FROM deploys WHERE namespace = $1 AND name = $2 AND version = $3 AND at = $4 AND scope = $5", values: key },
  );
}

/**
 * Stores a failed build once per (workload, commit, time). The log tail is redacted again here:
 * whatever the caller did, no secret is written.
 */
export async function recordBuild(q: Queryable, b: Build): Promise<Recorded> {
  const key = [b.workload.namespace, b.workload.name, b.commit, b.at];
  return insertOnce(
    q,
    {
      text: `INSERT INTO builds (namespace, name, commit_id, at, status, log_tail, redacted_secrets, changed_files)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (namespace, name, commit_id, at) DO NOTHING RETURNING id::text AS id`,
      values: [...key, b.status, redactSecrets(b.logTail), b.redactedSecrets, JSON.stringify(b.changedFiles)],
    },
    { text: "SELECT id::text AS id FROM builds WHERE namespace = $1 AND name = $2 AND commit_id = $3 AND at = $4", values: key },
  );
}

/** The newest deploys of every workload, newest first. */
export async function recentDeploys(q: Queryable, limit: number): Promise<StoredDeploy[]> {
  const rows = await q.query<DeployRow>(`SELECT ${DEPLOY_COLUMNS} FROM deploys ORDER BY at DESC, id DESC LIMIT $1`, [limit]);
  return rows.rows.map(toDeploy);
}

/** One workload's deploys at or after `since` in a scope, oldest first (the order the watch judges them in). */
export async function deploysOf(q: Queryable, workload: WorkloadRef, since: Date, scope = ""): Promise<StoredDeploy[]> {
  const rows = await q.query<DeployRow>(`SELECT ${DEPLOY_COLUMNS} FROM deploys WHERE namespace = $1 AND name = $2 AND at >= $3 AND scope = $4 ORDER BY at, id`, [
    workload.namespace,
    workload.name,
    since,
    scope,
  ]);
  return rows.rows.map(toDeploy);
}

/** A stored failed build: the build as validated, with its id and its times as dates. */
export type StoredBuild = Omit<Build, "at"> & { id: number; at: Date; receivedAt: Date };

/** The newest failed builds, newest first. */
export async function recentBuilds(q: Queryable, limit: number): Promise<StoredBuild[]> {
  const rows = await q.query<{
    id: string;
    namespace: string;
    name: string;
    commit_id: string;
    status: "failed";
    log_tail: string;
    redacted_secrets: string[];
    changed_files: ChangedFile[];
    at: Date;
    received_at: Date;
  }>("SELECT id::text AS id, namespace, name, commit_id, status, log_tail, redacted_secrets, changed_files, at, received_at FROM builds ORDER BY at DESC, id DESC LIMIT $1", [limit]);
  return rows.rows.map((r) => ({
    id: Number(r.id),
    workload: { namespace: r.namespace, name: r.name },
    commit: r.commit_id,
    status: r.status,
    logTail: r.log_tail,
    redactedSecrets: r.redacted_secrets,
    changedFiles: r.changed_files,
    at: r.at,
    receivedAt: r.received_at,
  }));
}

/** One deploy by id, or undefined. */
export async function deployById(q: Queryable, id: number): Promise<StoredDeploy | undefined> {
  const rows = await q.query<DeployRow>(`SELECT ${DEPLOY_COLUMNS} FROM deploys WHERE id = $1`, [id]);
  const r = rows.rows[0];
  return r === undefined ? undefined : toDeploy(r);
}
