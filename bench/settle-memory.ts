/**
 * What 1,000 incidents waiting to verify cost, on the embedded database: process memory (RSS,
 * heap) and database bytes (checkpoints and queue rows), against 1 waiting incident, and against
 * the in-process design it replaced (each waiting incident a sleeping graph run holding its state).
 *
 * One real incident runs on a wall-clock fleet world through perceive, diagnose, policy-check and
 * act to its settle wait; its continuation is scheduled in the queue. The other 999 are copies of
 * its thread (checkpoints, blobs, writes) and its incident row, each with its own real continuation
 * job sent through the queue: running 1,000 graphs to act would take minutes and store the same
 * bytes. The in-process baseline loads the 1,000 threads' states and keeps each behind a pending
 * timer, as 1,000 sleeping runs would at the least.
 *
 *   npx tsx --expose-gc bench/settle-memory.ts
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { stringify } from "yaml";
import { advanceQueuedIncident } from "../app/advance.js";
import { installFleet, loadFleet } from "../app/fleet.js";
import { Intake, parseNotifications } from "../app/intake.js";
import { MemoryNotifier } from "../app/notify.js";
import { wireSuture } from "../app/suture.js";
import type { Continuation } from "../domain/settle.js";
import { PolicySchema } from "../policy/schema.js";
import { openDatabase, type Database } from "../store/database.js";
import { migrate } from "../store/migrate.js";
import { IncidentQueue } from "../store/queue.js";

const WAITING = Number(process.env["BENCH_SETTLE_INCIDENTS"] ?? 1000);
const SETTLE_SECONDS = 3600;

/** Process memory after a full collection (when `--expose-gc` is given). */
function memory(): { rss: number; heap: number } {
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed };
}

/** Bytes of the tables a waiting incident lives in: its checkpoints and its queue job (and its incident row). */
async function databaseBytes(db: Database): Promise<{ checkpoints: number; queue: number; incidents: number }> {
  const size = async (sql: string): Promise<number> => Number((await db.pool.query<{ n: string }>(sql)).rows[0]?.n ?? 0);
  return {
    checkpoints: await size(
      `SELECT (SELECT COALESCE(sum(octet_length(checkpoint::text) + octet_length(metadata::text)), 0) FROM checkpoints)
            + (SELECT COALESCE(sum(octet_length(blob)), 0) FROM checkpoint_blobs)
            + (SELECT COALESCE(sum(octet_length(blob)), 0) FROM checkpoint_writes) AS n`,
    ),
    queue: await size(`SELECT COALESCE(sum(pg_column_size(j.*)), 0) AS n FROM pgboss.job j WHERE state = 'created'`),
    incidents: await size(`SELECT COALESCE(sum(pg_column_size(i.*)), 0) AS n FROM incidents i`),
  };
}

/** Copies an incident's row and thread under a new id. */
async function cloneWaiting(db: Database, from: string, to: string): Promise<void> {
  await db.pool.query(
    `INSERT INTO incidents (id, fingerprint, alert_name, service, severity, status, environment_id, source, opened_at, updated_at)
     SELECT $2, fingerprint || $2, alert_name, service, severity, status, environment_id, source, opened_at, updated_at FROM incidents WHERE id = $1`,
    [from, to],
  );
  await db.pool.query(
    `INSERT INTO checkpoints (thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, type, checkpoint, metadata)
     SELECT $2, checkpoint_ns, checkpoint_id, parent_checkpoint_id, type, checkpoint, metadata FROM checkpoints WHERE thread_id = $1`,
    [from, to],
  );
  await db.pool.query(
    `INSERT INTO checkpoint_blobs (thread_id, checkpoint_ns, channel, version, type, blob) SELECT $2, checkpoint_ns, channel, version, type, blob FROM checkpoint_blobs WHERE thread_id = $1`,
    [from, to],
  );
  await db.pool.query(
    `INSERT INTO checkpoint_writes (thread_id, checkpoint_ns, checkpoint_id, task_id, idx, channel, type, blob)
     SELECT $2, checkpoint_ns, checkpoint_id, task_id, idx, channel, type, blob FROM checkpoint_writes WHERE thread_id = $1`,
    [from, to],
  );
}

/** One measured configuration. */
export interface SettleMemoryRow {
  what: string;
  waiting: number;
  rssBytes: number;
  heapBytes: number;
  checkpointBytes: number;
  queueBytes: number;
  incidentBytes: number;
}

/** Runs the measurement (embedded database, scratch directory). */
export async function benchSettleMemory(): Promise<SettleMemoryRow[]> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "suture-settle-bench-"));
  const db = await openDatabase({ dataDir: "memory://" });
  const rows: SettleMemoryRow[] = [];
  try {
    await migrate(db);
    const fleetFile = path.join(dir, "fleet.yaml");
    await writeFile(
      fleetFile,
      stringify({
        worlds: [
          {
            name: "bench",
            namespace: "bench",
            clock: "wall",
            environment: {
              seed: 7,
              historyMinutes: 30,
              tickSeconds: 60,
              services: [{ name: "api", replicas: 3, image: "registry.internal/api:2.3.1", revisions: [{ image: "registry.internal/api:2.2.0", deployedAtMinutes: -20160 }] }],
              faults: [{ kind: "bad-rollout", service: "api", atMinutes: -12, params: { variant: "missing-image", version: "2.4.0" } }],
            },
          },
        ],
      }),
    );
    await installFleet(db, await loadFleet(fleetFile));
    const suture = await wireSuture(db, { notifier: new MemoryNotifier(), policy: PolicySchema.parse({ verification: { settleSeconds: { rollout_undo: SETTLE_SECONDS } } }) });
    const queue = await IncidentQueue.open(db);
    try {
      const body = {
        version: "4",
        groupKey: '{}:{alertname="KubePodNotReady"}',
        truncatedAlerts: 0,
        status: "firing",
        receiver: "suture",
        groupLabels: {},
        commonLabels: {},
        commonAnnotations: {},
        externalURL: "http://alertmanager.example:9093",
        alerts: [
          {
            status: "firing",
            labels: { alertname: "KubePodNotReady", service: "api", namespace: "bench", severity: "warning" },
            annotations: {},
            generatorURL: "http://prometheus.example:9090/graph",
            startsAt: new Date().toISOString(),
            endsAt: "0001-01-01T00:00:00Z",
            fingerprint: "bench-api",
          },
        ],
      };
      const raw = JSON.stringify(body);
      const accepted = await new Intake(db, queue, undefined).accept("alertmanager", "application/json", raw, parseNotifications("alertmanager", body));
      const first = accepted.alerts[0]?.incidentId;
      if (first == null) throw new Error("the bench alert opened no incident");
      // The alert's own job stays queued; only continuations count as waiting (state 'created' rows are counted, so drop it).
      await db.pool.query("DELETE FROM pgboss.job WHERE data->>'incidentId' = $1", [first]);
      const schedule = async (c: Continuation, jobKey: string): Promise<void> => {
        await queue.schedule({ incidentId: c.incidentId, reason: "settle" }, c.until, jobKey);
      };
      const outcome = await advanceQueuedIncident(suture, first, { onWait: (c) => schedule(c, `${c.incidentId}:${c.key}:bench`) });
      if (outcome !== "settling") throw new Error(`the bench incident did not reach its settle wait (${outcome})`);
      const until = new Date(Date.now() + SETTLE_SECONDS * 1000);

      const measure = async (what: string, waiting: number): Promise<void> => {
        const m = memory();
        const d = await databaseBytes(db);
        rows.push({ what, waiting, rssBytes: m.rss, heapBytes: m.heap, checkpointBytes: d.checkpoints, queueBytes: d.queue, incidentBytes: d.incidents });
      };
      await measure("durable wait (this design)", 1);
      for (let i = 1; i < WAITING; i += 1) {
        const id = `${first}-w${i}`;
        await cloneWaiting(db, first, id);
        await schedule({ incidentId: id, until, key: "settle:1" }, `${id}:settle:1:bench`);
      }
      await measure("durable wait (this design)", WAITING);
      // The design it replaced: every waiting incident a sleeping run holding at least its graph state.
      const ids = [first, ...Array.from({ length: WAITING - 1 }, (_, i) => `${first}-w${i + 1}`)];
      const held: unknown[] = [];
      const timers: NodeJS.Timeout[] = [];
      for (const id of ids) {
        const state = (await suture.graph.getState({ configurable: { thread_id: id } })).values as unknown;
        held.push(state);
        timers.push(setTimeout(() => held.length, SETTLE_SECONDS * 1000));
      }
      await measure("in-process sleepers (before)", WAITING);
      for (const t of timers) clearTimeout(t);
      held.length = 0;
    } finally {
      await queue.stop({ graceful: false });
    }
  } finally {
    await db.close();
    await rm(dir, { recursive: true, force: true });
  }
  return rows;
}

const mb = (n: number): string => `${(n / 1024 / 1024).toFixed(1)} MB`;
const kb = (n: number): string => `${(n / 1024).toFixed(1)} KB`;

/** Prints the table, with ratios against the first row (1 incident waiting, durable). */
export function printSettleMemoryTable(rows: SettleMemoryRow[]): void {
  console.log("\nIncidents waiting to verify (embedded PGlite): process memory and database bytes, compared in this run");
  const header = `${"design".padEnd(30)} ${"waiting".padStart(8)} ${"RSS".padStart(10)} ${"heap".padStart(10)} ${"heap ×".padStart(7)} ${"checkpoints".padStart(12)} ${"queue rows".padStart(11)} ${"incidents".padStart(10)} ${"DB/incident".padStart(12)}`;
  console.log(header);
  console.log("-".repeat(header.length));
  const base = rows[0];
  for (const r of rows) {
    const db = r.checkpointBytes + r.queueBytes + r.incidentBytes;
    console.log(
      `${r.what.padEnd(30)} ${String(r.waiting).padStart(8)} ${mb(r.rssBytes).padStart(10)} ${mb(r.heapBytes).padStart(10)} ${(base !== undefined ? r.heapBytes / base.heapBytes : 1).toFixed(2).padStart(7)} ${kb(r.checkpointBytes).padStart(12)} ${kb(r.queueBytes).padStart(11)} ${kb(r.incidentBytes).padStart(10)} ${kb(db / r.waiting).padStart(12)}`,
    );
  }
  console.log(
    "(durable: a waiting incident is its checkpoints, one queue row and its incident row; no process memory, no job slot. In-process: the states alone, as a lower bound, plus a job slot each.)",
  );
}

if (process.argv[1]?.endsWith("settle-memory.ts") === true) {
  const rows = await benchSettleMemory();
  printSettleMemoryTable(rows);
  const out = path.resolve(import.meta.dirname, "results", "settle-memory.json");
  await mkdir(path.dirname(out), { recursive: true });
  await writeFile(out, `${JSON.stringify({ at: new Date().toISOString(), rows }, null, 2)}\n`);
  console.log(`\nwrote ${out}`);
}
