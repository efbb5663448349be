import { describeSelfRecovery } from "../domain/self-health.js";
import type { Job } from "pg-boss";
import { advanceQueuedIncident, type JobOutcome } from "../app/advance.js";
import { expireApprovals } from "../app/approvals.js";
import { deadLetter, recordJobFailure } from "../app/dead-letters.js";
import { regressionPass, type WatchPass } from "../app/regression-watch.js";
import { checkClock, selfRecoveryPass } from "../app/self-recovery.js";
import type { SelfRecoveryRow } from "../store/self-recoveries.js";
import type { Suture } from "../app/suture.js";
import type { IncidentJob, IncidentQueue } from "../store/queue.js";
import type { SutureMetrics } from "./metrics.js";

/** Options for {@link IncidentWorker}. */
export interface WorkerOptions {
  /** Incident jobs run at once in this process. */
  concurrency: number;
  metrics?: SutureMetrics;
  /** How often this worker escalates expired approval requests (ms; 0 = never). */
  expiryIntervalMs?: number;
  /** How often this worker runs a regression-watch pass over the configured cluster (ms; 0 = never; default 60 s with a cluster). */
  regressionIntervalMs?: number;
  /** How often this worker judges Suture's own health and applies self-recovery (ms; 0 = never; default 5 min). */
  selfRecoveryIntervalMs?: number;
  /** Called after each job (tests and logs). */
  onJobDone?: (incidentId: string, result: string) => void;
}

/** What a job did. */
export type JobResult = JobOutcome;

/**
 * A queue worker: takes incident jobs, runs each incident's graph as far as it can go (start,
 * continue after a crash from the last checkpoint, or resume after a human decision), against
 * the shared world that owns the alert's workload. Any number of workers, in any number of
 * processes, can run against the same database.
 */
export class IncidentWorker {
  private expiryTimer: NodeJS.Timeout | undefined;
  private regressionTimer: NodeJS.Timeout | undefined;
  private selfRecoveryTimer: NodeJS.Timeout | undefined;
  /** A pass still running when the next minute comes is not started twice in this process. */
  private watching = false;
  private readonly running = new Set<string>();

  constructor(
    private readonly suture: Suture,
    private readonly queue: IncidentQueue,
    private readonly options: WorkerOptions,
  ) {}

  /** Starts taking jobs (and dead letters, and approval expiry). */
  async start(): Promise<void> {
    // Deadlines are timed by the database's clock from the first job on; a skewed host is reported.
    await this.checkClock();
    await this.queue.work(this.options.concurrency, (job) => this.handle(job));
    await this.queue.workDeadLetters((job) => this.deadLetter(job));
    const every = this.options.expiryIntervalMs ?? 30_000;
    if (every > 0) {
      this.expiryTimer = setInterval(() => {
        this.expire().catch((error: unknown) => process.stderr.write(`suture worker: approval expiry failed: ${(error as Error).message}\n`));
      }, every);
      this.expiryTimer.unref();
    }
    const watchEvery = this.suture.cluster === undefined ? 0 : (this.options.regressionIntervalMs ?? 60_000);
    if (watchEvery > 0) {
      this.regressionTimer = setInterval(() => {
        this.watchDeploys().catch((error: unknown) => process.stderr.write(`suture worker: regression watch failed: ${(error as Error).message}\n`));
      }, watchEvery);
      this.regressionTimer.unref();
    }
    // Suture's own health: an anomalous rate of its actions going wrong lowers its autonomy (at most one recovery per metric in force, so any number of workers may run this).
    const healthEvery = this.options.selfRecoveryIntervalMs ?? 300_000;
    if (healthEvery > 0) {
      this.selfRecoveryTimer = setInterval(() => {
        this.checkOwnHealth().catch((error: unknown) => process.stderr.write(`suture worker: self-health pass failed: ${(error as Error).message}\n`));
      }, healthEvery);
      this.selfRecoveryTimer.unref();
    }
  }

  /** One self-recovery pass (app/self-recovery.ts); says on stderr what it lowered and why. */
  async checkOwnHealth(now = new Date()): Promise<SelfRecoveryRow[]> {
    await this.checkClock();
    const opened = await selfRecoveryPass(this.suture.store, now);
    for (const r of opened) process.stderr.write(`suture worker: self-recovery #${r.id}: ${describeSelfRecovery(r)}: ${r.reason}\n`);
    return opened;
  }

  /** Measures this worker's clock against the database's (app/self-recovery.ts `checkClock`); says on stderr when it is skewed. */
  async checkClock(): Promise<void> {
    const sync = await checkClock(this.suture);
    if (sync.reported) process.stderr.write(`suture worker: clock skew ${(sync.skewMs / 1000).toFixed(1)} s against the database; deadlines are timed by the database's clock\n`);
  }

  /** One regression-watch pass, by one worker at a time (the others skip this minute). */
  async watchDeploys(now = Date.now()): Promise<WatchPass | undefined> {
    if (this.watching) return undefined;
    this.watching = true;
    const lock = await this.suture.locks.acquire("regression-watch", "regression-watch", 0, { record: false }).catch((error: unknown) => {
      this.watching = false;
      throw error;
    });
    if (!lock.acquired) {
      this.watching = false;
      return undefined;
    }
    try {
      const pass = await regressionPass(this.suture, this.queue, now);
      for (const look of pass.looks) if (look.status !== "watching") this.options.metrics?.regressionLooks.inc({ status: look.status });
      return pass;
    } finally {
      this.watching = false;
      await this.suture.locks.releaseIncident("regression-watch");
    }
  }

  /** Stops taking jobs; running ones finish first (up to `timeoutMs`), then their locks are released. */
  async stop(timeoutMs = 30_000): Promise<void> {
    if (this.expiryTimer !== undefined) clearInterval(this.expiryTimer);
    if (this.regressionTimer !== undefined) clearInterval(this.regressionTimer);
    if (this.selfRecoveryTimer !== undefined) clearInterval(this.selfRecoveryTimer);
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
      const result = await this.runIncident(incidentId, job.signal, job.id);
      this.options.metrics?.jobs.inc({ result });
      this.options.onJobDone?.(incidentId, result);
    } catch (error) {
      this.options.metrics?.jobs.inc({ result: "failed" });
      const message = error instanceof Error ? error.message : String(error);
      await recordJobFailure(this.suture, incidentId, `attempt ${job.retryCount + 1}: ${message}`).catch(() => undefined);
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
  async runIncident(incidentId: string, signal?: AbortSignal, jobId = "direct"): Promise<JobResult> {
    const lock = await this.suture.locks.acquire(`incident:${incidentId}`, incidentId, 0, { record: false });
    if (!lock.acquired) throw new Error(`incident "${incidentId}" is being run by another worker; the job will be retried`);
    try {
      return await this.runHeld(incidentId, signal, jobId);
    } finally {
      await this.suture.locks.releaseIncident(incidentId);
    }
  }

  private async runHeld(incidentId: string, signal: AbortSignal | undefined, jobId: string): Promise<JobResult> {
    const metrics = this.options.metrics;
    return advanceQueuedIncident(this.suture, incidentId, {
      ...(signal !== undefined ? { signal } : {}),
      // A wait (a settle deadline) becomes a job at its deadline; this job then ends, freeing the slot.
      // Keyed by what it waits for and by this job, so this job's retry schedules it once, and a
      // continuation that runs early (clock skew) schedules a new one.
      onWait: async (c) => {
        await this.queue.schedule({ incidentId: c.incidentId, reason: "settle" }, c.until, `${c.incidentId}:${c.key}:${jobId}`);
      },
      ...(metrics !== undefined
        ? {
            onNodeDone: (node: string, seconds: number) => metrics.nodeDuration.observe({ node }, seconds),
            onClaim: (startedAt: Date, openedAt: Date) => metrics.startLatency.observe((startedAt.getTime() - openedAt.getTime()) / 1000),
          }
        : {}),
    });
  }

  private async deadLetter(job: Job<IncidentJob>): Promise<void> {
    await deadLetter(this.suture, job.data.incidentId, job.id);
  }

  private async expire(): Promise<void> {
    await expireApprovals(this.suture, {}, async (incidentId) => {
      await this.queue.enqueue({ incidentId, reason: "expiry" });
    });
  }
}
