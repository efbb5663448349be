import type { Job } from "pg-boss";
import { AlertSchema, type Alert } from "../domain/alerts/alert.js";
import { OPEN_STATUSES, TERMINAL_STATUSES, UnknownIncidentError, type IncidentRow } from "../store/incident-store.js";
import { SharedWorld } from "../environments/shared-world.js";
import type { IncidentStateValue } from "../graphs/state.js";
import type { SutureMetrics } from "./metrics.js";
import type { IncidentJob, IncidentQueue } from "../store/queue.js";
import { expireApprovals } from "../app/approvals.js";
import { nextMove, resumeIncidentIn, startIncidentIn, type RunOptions } from "../app/incident-runner.js";
import type { Suture } from "../app/suture.js";

/** Options for {@link IncidentWorker}. */
export interface WorkerOptions {
  /** Incident jobs run at once in this process. */
  concurrency: number;
  metrics?: SutureMetrics;
  /** How often this worker escalates expired approval requests (ms; 0 = never). */
  expiryIntervalMs?: number;
  /** Fault injection for crash tests (see RunOptions). */
  crashBeforeNode?: string;
  /** Called after each job (tests and logs). */
  onJobDone?: (incidentId: string, result: string) => void;
}

/** What a job did. */
export type JobResult = "finished" | "paused" | "skipped" | "escalated_no_environment";

/**
 * A queue worker: takes incident jobs, runs each incident's graph as far as it can go (start,
 * continue after a crash from the last checkpoint, or resume after a human decision), against
 * the shared world that owns the alert's workload. Any number of workers, in any number of
 * processes, can run against the same database.
 */
export class IncidentWorker {
  private expiryTimer: NodeJS.Timeout | undefined;
  private readonly running = new Set<string>();

  constructor(
    private readonly suture: Suture,
    private readonly queue: IncidentQueue,
    private readonly options: WorkerOptions,
  ) {}

  /** Starts taking jobs (and dead letters, and approval expiry). */
  async start(): Promise<void> {
    await this.queue.work(this.options.concurrency, (job) => this.handle(job));
    await this.queue.workDeadLetters((job) => this.deadLetter(job));
    const every = this.options.expiryIntervalMs ?? 30_000;
    if (every > 0) {
      this.expiryTimer = setInterval(() => {
        this.expire().catch((error: unknown) => process.stderr.write(`suture worker: approval expiry failed: ${(error as Error).message}\n`));
      }, every);
      this.expiryTimer.unref();
    }
  }

  /** Stops taking jobs; running ones finish first (up to `timeoutMs`), then their locks are released. */
  async stop(timeoutMs = 30_000): Promise<void> {
    if (this.expiryTimer !== undefined) clearInterval(this.expiryTimer);
    await this.queue.stop({ graceful: true, timeoutMs });
    await this.suture.locks.releaseAll();
  }

  /** Incidents this process is running right now. */
  get active(): string[] {
    return [...this.running];
  }

  private async handle(job: Job<IncidentJob>): Promise<void> {
    const { incidentId } = job.data;
    this.running.add(incidentId);
    try {
      const result = await this.runIncident(incidentId, job.signal);
      this.options.metrics?.jobs.inc({ result });
      this.options.onJobDone?.(incidentId, result);
    } catch (error) {
      this.options.metrics?.jobs.inc({ result: "failed" });
      const message = error instanceof Error ? error.message : String(error);
      await this.suture.db.pool
        .query("UPDATE incidents SET last_error = $2, updated_at = now() WHERE id = $1", [incidentId, `attempt ${job.retryCount + 1}: ${message}`])
        .catch(() => undefined);
      // pg-boss retries the job with backoff, and dead-letters it after the last retry.
      throw error;
    } finally {
      this.running.delete(incidentId);
    }
  }

  /**
   * Runs one incident as far as it can go now. Safe to call again for the same incident; never
   * runs one incident in two places at once (a session lock on PostgreSQL, in-process otherwise).
   */
  async runIncident(incidentId: string, signal?: AbortSignal): Promise<JobResult> {
    const lock = await this.suture.locks.acquire(`incident:${incidentId}`, incidentId, 0, { record: false });
    if (!lock.acquired) throw new Error(`incident "${incidentId}" is being run by another worker; the job will be retried`);
    try {
      return await this.runHeld(incidentId, signal);
    } finally {
      await this.suture.locks.releaseIncident(incidentId);
    }
  }

  private async runHeld(incidentId: string, signal: AbortSignal | undefined): Promise<JobResult> {
    let incident: IncidentRow;
    try {
      incident = await this.suture.store.getIncident(incidentId);
    } catch (error) {
      if (error instanceof UnknownIncidentError) return "skipped";
      throw error;
    }
    if (TERMINAL_STATUSES.includes(incident.status)) return "skipped";
    if (incident.status === "awaiting_approval") {
      const request = await this.suture.store.latestApproval(incidentId);
      if (request?.decision == null) return "skipped";
    }
    const claimed = await this.suture.db.pool.query<{ started_at: Date; opened_at: Date; first: boolean }>(
      `UPDATE incidents SET status = CASE WHEN status = 'queued' THEN 'running' ELSE status END,
         started_at = COALESCE(started_at, clock_timestamp()), job_attempts = job_attempts + 1, worker = $3, updated_at = now()
       WHERE id = $1 AND status = ANY($2::text[]) RETURNING started_at, opened_at, job_attempts = 1 AS first`,
      [incidentId, OPEN_STATUSES, this.suture.locks.worker],
    );
    const claim = claimed.rows[0];
    if (claim === undefined) return "skipped";
    if (claim.first) this.options.metrics?.startLatency.observe((claim.started_at.getTime() - claim.opened_at.getTime()) / 1000);
    if (incident.environment_id === null) return this.escalateWithoutEnvironment(incident);

    const world = await new SharedWorld(this.suture.db, incident.environment_id).open();
    const options: RunOptions = {
      ...(this.options.crashBeforeNode !== undefined ? { crashBeforeNode: this.options.crashBeforeNode } : {}),
      ...(signal !== undefined ? { signal } : {}),
      ...(this.options.metrics !== undefined ? { onNodeDone: (node: string, seconds: number) => this.options.metrics?.nodeDuration.observe({ node }, seconds) } : {}),
    };
    const snapshot = await this.suture.graph.getState({ configurable: { thread_id: incidentId } });
    const move = nextMove(snapshot);
    if (move === "record-outcome") {
      // The graph finished but its process died before the status was stored.
      const outcome = (snapshot.values as Partial<IncidentStateValue>).outcome;
      if (outcome != null) await this.suture.store.setIncidentStatus(incidentId, outcome.status, outcome.reason);
      return "finished";
    }
    const run =
      move === "continue"
        ? await resumeIncidentIn(this.suture, incidentId, world, options)
        : await startIncidentIn(this.suture, incidentId, await this.firstAlert(incidentId), world, options);
    return run.awaitingApproval !== undefined ? "paused" : "finished";
  }

  private async firstAlert(incidentId: string): Promise<Alert> {
    const row = await this.suture.db.pool.query<{ normalized: unknown }>("SELECT normalized FROM alerts WHERE incident_id = $1 AND status = 'firing' ORDER BY id LIMIT 1", [incidentId]);
    if (row.rows[0] === undefined) throw new Error(`incident "${incidentId}" has no firing alert to start from`);
    return AlertSchema.parse(row.rows[0].normalized);
  }

  private async escalateWithoutEnvironment(incident: IncidentRow): Promise<JobResult> {
    const reason = `no environment adapter covers workload ${incident.service} (no fleet route for its namespace/service); nothing was observed or changed`;
    await this.suture.store.setIncidentStatus(incident.id, "escalated", reason);
    await this.suture.store.audit({ incidentId: incident.id, actor: "worker", kind: "escalated", summary: reason, dedupeKey: `${incident.id}:outcome` });
    await this.suture.notifier.notify({ incidentId: incident.id, status: "escalated", title: `${incident.alert_name} on ${incident.service}`, reason, service: incident.service });
    return "escalated_no_environment";
  }

  private async deadLetter(job: Job<IncidentJob>): Promise<void> {
    const { incidentId } = job.data;
    const updated = await this.suture.db.pool.query<{ last_error: string | null }>(
      `UPDATE incidents SET status = 'dead_letter', updated_at = now(), closed_at = now(),
         summary = 'every retry of its job failed; see its last error (suture show), fix the cause, then \`suture retry\` it'
       WHERE id = $1 AND NOT (status = ANY($2::text[])) RETURNING last_error`,
      [incidentId, TERMINAL_STATUSES],
    );
    if (updated.rows.length === 0) return;
    await this.suture.store.audit({
      incidentId,
      actor: "worker",
      kind: "dead_letter",
      summary: `job failed on every retry; last error: ${updated.rows[0]?.last_error ?? "unknown (the worker died)"}`,
      dedupeKey: `${incidentId}:dead-letter:${job.id}`,
    });
  }

  private async expire(): Promise<void> {
    await expireApprovals(this.suture, {}, async (incidentId) => {
      await this.queue.enqueue({ incidentId, reason: "expiry" });
    });
  }
}
