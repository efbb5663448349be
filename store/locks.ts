import { hostname } from "node:os";
import type pg from "pg";
import type { Database } from "./database.js";

/** Arbitrary namespace for remediation locks (the second key is the resource's hash). */
const RESOURCE_LOCK_SPACE = 727_003;

/**
 * The answer to a lock request. `waitedFor` names the incident that held the lock while this one
 * waited: whatever it did to the workload happened after this incident last looked at it.
 */
export type LockResult = { acquired: true; waitedFor: string | null; waitedMs: number } | { acquired: false; holder: string | null; waitedMs: number };

interface Held {
  incidentId: string;
  rowId: string;
  /** The session holding the advisory lock (server back end). */
  client?: pg.PoolClient;
}

/** The lock name of a workload: one remediation at a time per namespace/service. */
export function workloadResource(namespace: string, service: string): string {
  return `${namespace}/${service}`;
}

/**
 * Per-workload remediation locks, so two incidents never remediate the same workload at once.
 * On PostgreSQL the lock is a session advisory lock held on a dedicated connection: it spans
 * processes and machines, and dies with a killed worker's connection. The embedded database is
 * one process (its data directory is locked), so an in-process table is the whole truth there.
 * Every acquisition and release is also written to `resource_locks` for operators and tests.
 */
export class ResourceLocks {
  private readonly held = new Map<string, Held>();
  private readonly pending = new Map<string, Promise<unknown>>();

  constructor(
    private readonly db: Database,
    readonly worker: string = `${hostname()}:${process.pid}`,
  ) {}

  /** Takes the lock for `incidentId` (re-entrant), waiting up to `waitMs` for another holder. */
  async acquire(resource: string, incidentId: string, waitMs: number, options: { record?: boolean } = {}): Promise<LockResult> {
    // The holder takes its own lock again at once: it must never queue behind an incident that
    // is waiting for it (that waiter would only get the lock after the holder finished).
    if (this.held.get(resource)?.incidentId === incidentId) return { acquired: true, waitedFor: null, waitedMs: 0 };
    // One attempt per resource at a time in this process, so two local incidents cannot both win.
    const previous = this.pending.get(resource) ?? Promise.resolve();
    const attempt = previous.catch(() => undefined).then(() => this.tryFor(resource, incidentId, waitMs, options.record ?? true));
    this.pending.set(resource, attempt);
    try {
      return await attempt;
    } finally {
      if (this.pending.get(resource) === attempt) this.pending.delete(resource);
    }
  }

  private async tryFor(resource: string, incidentId: string, waitMs: number, record: boolean): Promise<LockResult> {
    const started = Date.now();
    let waitedFor: string | null = null;
    for (;;) {
      const mine = this.held.get(resource);
      if (mine?.incidentId === incidentId) return { acquired: true, waitedFor, waitedMs: Date.now() - started };
      if (mine === undefined && (await this.tryOnce(resource, incidentId, record))) return { acquired: true, waitedFor, waitedMs: Date.now() - started };
      waitedFor ??= mine?.incidentId ?? (await this.holderOf(resource)) ?? "another incident";
      const waited = Date.now() - started;
      if (waited >= waitMs) return { acquired: false, holder: mine?.incidentId ?? (await this.holderOf(resource)), waitedMs: waited };
      await new Promise((resolve) => setTimeout(resolve, Math.min(100, waitMs - waited)));
    }
  }

  private async tryOnce(resource: string, incidentId: string, record: boolean): Promise<boolean> {
    let client: pg.PoolClient | undefined;
    if (this.db.kind === "postgres") {
      client = await this.db.pool.connect();
      const got = await client.query<{ ok: boolean }>("SELECT pg_try_advisory_lock($1, hashtext($2)) AS ok", [RESOURCE_LOCK_SPACE, resource]);
      if (got.rows[0]?.ok !== true) {
        client.release();
        return false;
      }
    }
    try {
      const row = record
        ? await this.db.pool.query<{ id: string }>("INSERT INTO resource_locks (resource, incident_id, worker) VALUES ($1, $2, $3) RETURNING id::text AS id", [resource, incidentId, this.worker])
        : undefined;
      this.held.set(resource, { incidentId, rowId: row?.rows[0]?.id ?? "", ...(client !== undefined ? { client } : {}) });
      return true;
    } catch (error) {
      if (client !== undefined) await this.unlock(client, resource);
      throw error;
    }
  }

  private async unlock(client: pg.PoolClient, resource: string): Promise<void> {
    try {
      await client.query("SELECT pg_advisory_unlock($1, hashtext($2))", [RESOURCE_LOCK_SPACE, resource]);
      client.release();
    } catch (error) {
      // A connection that cannot unlock is destroyed, which releases the lock on the server.
      client.release(error as Error);
    }
  }

  /** The incident holding a workload's lock, as recorded (null if unknown). */
  async holderOf(resource: string): Promise<string | null> {
    const row = await this.db.pool.query<{ incident_id: string }>("SELECT incident_id FROM resource_locks WHERE resource = $1 AND released_at IS NULL ORDER BY id DESC LIMIT 1", [resource]);
    return row.rows[0]?.incident_id ?? null;
  }

  /** Releases every lock an incident holds in this process (its run has ended or paused). */
  async releaseIncident(incidentId: string): Promise<void> {
    for (const [resource, held] of [...this.held]) {
      if (held.incidentId !== incidentId) continue;
      this.held.delete(resource);
      if (held.rowId !== "") await this.db.pool.query("UPDATE resource_locks SET released_at = clock_timestamp() WHERE id = $1", [held.rowId]).catch(() => undefined);
      if (held.client !== undefined) await this.unlock(held.client, resource);
    }
  }

  /** Releases everything (shutdown). */
  async releaseAll(): Promise<void> {
    for (const incidentId of new Set([...this.held.values()].map((h) => h.incidentId))) await this.releaseIncident(incidentId);
  }
}
