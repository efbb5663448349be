import { createHash } from "node:crypto";
import { PgBoss, type ConstructorOptions, type Db as IDatabase, type Job } from "pg-boss";
import type { Database, Queryable } from "./database.js";

/** The queue incident jobs go through, and the one jobs land in after their last retry. */
export const INCIDENT_QUEUE = "suture-incidents";
/** Dead letters: jobs that failed every retry; a worker marks their incidents `dead_letter`. */
export const DEAD_LETTER_QUEUE = "suture-incidents-dead";
/** A queue used only by the benchmark to measure the queue's raw throughput. */
export const NOOP_QUEUE = "suture-noop";

/** pg-boss priority of scheduled continuations (higher runs first; new incidents' jobs have 0). */
const CONTINUATION_PRIORITY = 10;

/** What a job asks a worker to do: run the incident as far as it can go now. */
export interface IncidentJob {
  incidentId: string;
  /** Why it was queued: a new alert or regression, a human decision, an expired approval, a settle (or other) deadline come. */
  reason: "alert" | "regression" | "approval" | "expiry" | "retry" | "settle";
}

/** Queue timing: defaults suit production; tests shorten recovery. */
export interface QueueTiming {
  /** A running job's heartbeat; a job whose worker stops heartbeating is retried (pg-boss minimum 10). */
  heartbeatSeconds: number;
  /** How often this instance looks for jobs with a missed heartbeat. */
  superviseIntervalSeconds: number;
  /** Attempts after the first before a job is dead-lettered. */
  retryLimit: number;
}

/** Production defaults. */
export const DEFAULT_QUEUE_TIMING: QueueTiming = { heartbeatSeconds: 10, superviseIntervalSeconds: 5, retryLimit: 5 };

/** pg-boss's database interface over a client inside one of our transactions (transactional enqueue). */
function transactionExecutor(client: Queryable): IDatabase {
  return {
    executeSql: async (text: string, values?: unknown[]) => ({ rows: (await client.query(text, values)).rows }),
  };
}

/** pg-boss's database interface over the embedded session, serialized with every other query. */
function embeddedExecutor(db: Database): IDatabase {
  const session = db.embedded;
  if (session === undefined) throw new Error("embedded executor requested for a server database");
  return {
    executeSql: (text: string, values?: unknown[]) => session.queryAll(text, values),
    listen: async (channel: string, onNotification: (payload: string) => void, onReconnect: () => void) => {
      const unsubscribe = await session.listen(channel, onNotification);
      onReconnect();
      return { close: unsubscribe };
    },
  };
}

/** pg-boss options for this database: its own pool on a server, the shared session when embedded. */
function bossOptions(db: Database, timing: QueueTiming, supervise: boolean): ConstructorOptions {
  const common: ConstructorOptions = {
    schema: "pgboss",
    useListenNotify: true,
    supervise,
    superviseIntervalSeconds: timing.superviseIntervalSeconds,
    monitorIntervalSeconds: timing.superviseIntervalSeconds,
    maintenanceIntervalSeconds: 60,
    schedule: false,
    openTelemetry: { enabled: false },
    registerInstance: false,
  };
  if (db.kind === "embedded") return { ...common, db: embeddedExecutor(db), backend: "pglite" };
  if (db.connectionString === undefined) throw new Error("server database without a connection string");
  return { ...common, connectionString: db.connectionString, max: 6, backend: "postgres" };
}

/**
 * The durable incident queue (pg-boss on the same PostgreSQL as everything else): retries with
 * exponential backoff, a heartbeat so a killed worker's job comes back, a dead-letter queue, and
 * LISTEN/NOTIFY so an idle worker starts a new job at once instead of at its next poll.
 */
export class IncidentQueue {
  private constructor(
    readonly boss: PgBoss,
    private readonly timing: QueueTiming,
    private readonly db: Database,
  ) {}

  /** Starts pg-boss (installing its schema on first use) and makes sure the queues exist. */
  static async open(db: Database, options: { timing?: Partial<QueueTiming>; supervise?: boolean } = {}): Promise<IncidentQueue> {
    const timing = { ...DEFAULT_QUEUE_TIMING, ...options.timing };
    const boss = new PgBoss(bossOptions(db, timing, options.supervise ?? false));
    boss.on("error", (error: Error) => process.stderr.write(`suture queue: ${error.message}\n`));
    boss.on("warning", (warning: { message?: string }) => {
      if (process.env["SUTURE_DEBUG"] === "1") process.stderr.write(`suture queue warning: ${warning.message ?? ""}\n`);
    });
    await boss.start();
    const queue = new IncidentQueue(boss, timing, db);
    await queue.ensureQueues();
    return queue;
  }

  private async ensureQueues(): Promise<void> {
    const existing = new Set((await this.boss.getQueues()).map((q) => q.name));
    if (!existing.has(DEAD_LETTER_QUEUE)) {
      await this.boss.createQueue(DEAD_LETTER_QUEUE, { notify: true, retryLimit: 10, retryDelay: 5, retryBackoff: true });
    }
    if (!existing.has(INCIDENT_QUEUE)) {
      await this.boss.createQueue(INCIDENT_QUEUE, {
        // One active job per incident (singletonKey = incident id), any number queued.
        policy: "singleton",
        notify: true,
        retryLimit: this.timing.retryLimit,
        retryDelay: 1,
        retryBackoff: true,
        retryDelayMax: 60,
        heartbeatSeconds: this.timing.heartbeatSeconds,
        expireInSeconds: 6 * 3600,
        deadLetter: DEAD_LETTER_QUEUE,
      });
    }
    if (!existing.has(NOOP_QUEUE)) await this.boss.createQueue(NOOP_QUEUE, { notify: true });
  }

  /**
   * Queues a job for an incident. With `client`, the job is written in the caller's transaction,
   * so it exists exactly when the incident row does.
   */
  async enqueue(job: IncidentJob, client?: Queryable): Promise<string | null> {
    return this.boss.send(
      INCIDENT_QUEUE,
      { ...job },
      {
        singletonKey: job.incidentId,
        ...(client !== undefined ? { db: transactionExecutor(client) } : {}),
      },
    );
  }

  /**
   * Queues an incident's continuation to start at `startAfter` (a settle deadline). Idempotent:
   * the job id is derived from `key` (what it waits for, plus the job that schedules it), so a
   * retried job schedules the same continuation once. Returns the job id, or null when it existed.
   */
  async schedule(job: IncidentJob, startAfter: Date, key: string): Promise<string | null> {
    // Ahead of new alerts' jobs: a deadline that has come is served first, so a backlog of new incidents cannot make verification late.
    return this.boss.send(INCIDENT_QUEUE, { ...job }, { id: jobIdFor(key), startAfter, singletonKey: job.incidentId, priority: CONTINUATION_PRIORITY });
  }

  /** Runs `handler` for incident jobs, `concurrency` at a time in this process. */
  async work(concurrency: number, handler: (job: Job<IncidentJob>) => Promise<void>): Promise<string> {
    return this.workQueue(
      INCIDENT_QUEUE,
      { localConcurrency: concurrency, batchSize: 1, pollingIntervalSeconds: 1, notifyPollingIntervalSeconds: 2, heartbeatRefreshSeconds: Math.max(1, this.timing.heartbeatSeconds / 4) },
      handler,
    );
  }

  /**
   * pg-boss waits its polling interval after every fetch of one job (NOTIFY wakes it only for
   * jobs created later), so a backlog would drain one job per interval per slot. Each finished
   * job wakes this queue's local slots, which keep fetching until the queue comes back empty.
   */
  async workQueue<T extends object>(
    name: string,
    options: { localConcurrency: number; batchSize: 1; pollingIntervalSeconds: number; notifyPollingIntervalSeconds?: number; heartbeatRefreshSeconds?: number },
    handler: (job: Job<T>) => Promise<void>,
  ): Promise<string> {
    const wake = (): void => {
      for (const w of this.boss.getWipData()) if (w.name === name) this.boss.notifyWorker(w.id);
    };
    return this.boss.work<T>(name, options, async (jobs) => {
      try {
        for (const job of jobs) await handler(job);
      } finally {
        wake();
      }
    });
  }

  /** Runs `handler` for dead letters (jobs that failed their last retry). */
  async workDeadLetters(handler: (job: Job<IncidentJob>) => Promise<void>): Promise<string> {
    return this.workQueue(DEAD_LETTER_QUEUE, { localConcurrency: 1, batchSize: 1, pollingIntervalSeconds: 2, notifyPollingIntervalSeconds: 2 }, handler);
  }

  /** Jobs waiting, running and failed per queue (for `/metrics` and `suture incidents`). */
  async depth(): Promise<Array<{ queue: string; state: string; jobs: number }>> {
    // Counted live (pg-boss's own queue stats are refreshed by its monitor, up to a minute late).
    const rows = await this.db.pool.query<{ queue: string; state: string; jobs: number }>(
      "SELECT name AS queue, state::text AS state, count(*)::int AS jobs FROM pgboss.job WHERE name = ANY($1::text[]) GROUP BY 1, 2 ORDER BY 1, 2",
      [[INCIDENT_QUEUE, DEAD_LETTER_QUEUE]],
    );
    return rows.rows;
  }

  /** Stops fetching; with `graceful`, waits up to `timeoutMs` for running jobs to finish. */
  async stop(options: { graceful: boolean; timeoutMs?: number } = { graceful: true }): Promise<void> {
    await this.boss.stop({ graceful: options.graceful, timeout: options.timeoutMs ?? 30_000, close: true });
  }
}

/** A deterministic job id (a UUID, as pg-boss stores ids) for a scheduling key. */
export function jobIdFor(key: string): string {
  const h = createHash("sha256").update(key).digest("hex");
  // Shaped as a version-5-style UUID: pg-boss's id column is a uuid.
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h.slice(16, 17), 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
