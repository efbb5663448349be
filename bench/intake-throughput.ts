/**
 * Production-path throughput on real PostgreSQL: alerts posted over HTTP to `suture serve`,
 * queued in pg-boss, run to a terminal incident by two `suture worker` processes against the
 * simulated fleet (clock advances instantly, so no waiting). Measured in the same run as the
 * ceiling: the same queue configuration running no-op jobs with the same worker count and
 * concurrency. The ratio says how much of the queue's capacity the incident graph leaves.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { stringify } from "yaml";
import { loadConfig } from "../app/config.js";
import { openDatabase } from "../store/database.js";
import { IncidentQueue, NOOP_QUEUE } from "../store/queue.js";
import { startService } from "../interfaces/service.js";
import { withScratchDatabase } from "./scratch-database.js";
import { percentile } from "./stats.js";

const ROOT = path.resolve(import.meta.dirname, "..");
const ALERTS = Number(process.env["BENCH_ALERTS"] ?? 300);
const NOOP_JOBS = Number(process.env["BENCH_NOOP_JOBS"] ?? 3000);
const WORKERS = 2;
const CONCURRENCY = 4;
const CLIENTS = 16;

/** One row of the intake table. */
export interface IntakeRow {
  measure: string;
  count: number;
  perSecond: number;
  p50Ms?: number;
  p99Ms?: number;
}

function world(i: number): Record<string, unknown> {
  return {
    name: `b${i}`,
    namespace: `bench-${i}`,
    advanceToMinutes: 0,
    environment: {
      seed: 500 + i,
      historyMinutes: 30,
      tickSeconds: 60,
      services: [{ name: "api", replicas: 3, image: "registry.internal/api:2.3.1", revisions: [{ image: "registry.internal/api:2.2.0", deployedAtMinutes: -20160 }] }],
      faults: [{ kind: "bad-rollout", service: "api", atMinutes: -12, params: { variant: "missing-image", version: "2.4.0" } }],
    },
  };
}

function alert(i: number): string {
  const labels = { alertname: "KubePodNotReady", service: "api", namespace: `bench-${i}`, severity: "warning" };
  return JSON.stringify({
    version: "4",
    groupKey: '{}:{alertname="KubePodNotReady"}',
    status: "firing",
    receiver: "suture",
    groupLabels: { alertname: "KubePodNotReady" },
    commonLabels: labels,
    commonAnnotations: { summary: "pods not ready" },
    externalURL: "http://alertmanager:9093",
    alerts: [{ status: "firing", labels, annotations: {}, startsAt: "2026-11-23T10:00:00Z", endsAt: "0001-01-01T00:00:00Z", generatorURL: "http://prometheus:9090", fingerprint: `bench-${i}` }],
  });
}

function spawnWorker(env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", path.join(ROOT, "cli", "main.ts"), "worker", "--concurrency", String(CONCURRENCY)], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`worker did not start: ${out}`)), 60_000);
    const onData = (d: Buffer): void => {
      out += d.toString();
      if (out.includes("suture worker: running")) {
        clearTimeout(timer);
        resolve(child);
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
  });
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("benchmark timed out");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The queue's ceiling: no-op jobs through the same pg-boss setup, two instances × the same concurrency. */
async function noopCeiling(url: string): Promise<IntakeRow> {
  const db = await openDatabase({ url });
  const queues = [await IncidentQueue.open(db), await IncidentQueue.open(db)];
  let done = 0;
  try {
    await queues[0]!.boss.insert(
      NOOP_QUEUE,
      Array.from({ length: NOOP_JOBS }, (_, i) => ({ data: { i } })),
    );
    const started = performance.now();
    for (const q of queues) {
      await q.workQueue(NOOP_QUEUE, { localConcurrency: CONCURRENCY, batchSize: 1, pollingIntervalSeconds: 1, notifyPollingIntervalSeconds: 2 }, async () => {
        done += 1;
      });
    }
    await waitUntil(async () => done >= NOOP_JOBS, 300_000);
    const seconds = (performance.now() - started) / 1000;
    return { measure: `queue ceiling: no-op jobs (${WORKERS}×${CONCURRENCY})`, count: NOOP_JOBS, perSecond: NOOP_JOBS / seconds };
  } finally {
    for (const q of queues) await q.stop({ graceful: false });
    await db.close();
  }
}

/** Alerts over HTTP to terminal incidents with two worker processes. */
async function endToEnd(url: string): Promise<IntakeRow[]> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "suture-bench-"));
  const fleet = path.join(dir, "fleet.yaml");
  await writeFile(fleet, stringify({ worlds: Array.from({ length: ALERTS }, (_, i) => world(i)) }));
  const env = { DATABASE_URL: url, SUTURE_HOME: dir };
  const intake = await startService(loadConfig({ ...process.env, ...env }), { migrate: true, serve: { host: "127.0.0.1", port: 0, fleetFile: fleet } });
  const workers: ChildProcess[] = [];
  try {
    for (let i = 0; i < WORKERS; i++) workers.push(await spawnWorker(env));
    const latencies: number[] = [];
    let next = 0;
    const started = performance.now();
    const client = async (): Promise<void> => {
      while (next < ALERTS) {
        const body = alert(next++);
        const t = performance.now();
        const res = await fetch(`${intake.url!}/v1/alerts/alertmanager`, { method: "POST", headers: { "content-type": "application/json" }, body });
        await res.text();
        if (res.status !== 202) throw new Error(`intake refused a benchmark alert: ${res.status}`);
        latencies.push(performance.now() - t);
      }
    };
    await Promise.all(Array.from({ length: CLIENTS }, () => client()));
    const intakeSeconds = (performance.now() - started) / 1000;
    await waitUntil(async () => {
      const open = await intake.suture.db.pool.query("SELECT 1 FROM incidents WHERE status NOT IN ('resolved', 'escalated', 'closed_no_action', 'dead_letter') LIMIT 1");
      return open.rows.length === 0;
    }, 600_000);
    const seconds = (performance.now() - started) / 1000;
    const resolved = await intake.suture.db.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM incidents WHERE status = 'resolved'");
    if (resolved.rows[0]?.n !== ALERTS) throw new Error(`expected ${ALERTS} resolved incidents, got ${resolved.rows[0]?.n ?? 0}`);
    const starts = await intake.suture.db.pool.query<{ ms: number }>("SELECT extract(epoch FROM started_at - opened_at) * 1000 AS ms FROM incidents");
    const startMs = starts.rows.map((r) => Number(r.ms));
    return [
      { measure: `HTTP intake (${CLIENTS} clients)`, count: ALERTS, perSecond: ALERTS / intakeSeconds, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99) },
      { measure: "intake → graph start (queued under load)", count: ALERTS, perSecond: NaN, p50Ms: percentile(startMs, 50), p99Ms: percentile(startMs, 99) },
      { measure: `alert → terminal incident (${WORKERS} workers × ${CONCURRENCY})`, count: ALERTS, perSecond: ALERTS / seconds },
    ];
  } finally {
    for (const w of workers) w.kill("SIGTERM");
    await Promise.all(workers.map((w) => new Promise((resolve) => (w.exitCode !== null ? resolve(null) : w.once("close", resolve)))));
    await intake.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Runs both measurements on fresh databases of the server at `url`. */
export async function benchIntake(url: string): Promise<IntakeRow[]> {
  const ceiling = await withScratchDatabase(url, noopCeiling);
  const rows = await withScratchDatabase(url, endToEnd);
  return [...rows, ceiling];
}

/** Prints the intake table with the end-to-end rate as a share of the queue's ceiling. */
export function printIntakeTable(rows: IntakeRow[]): void {
  const ceiling = rows.find((r) => r.measure.startsWith("queue ceiling"));
  const e2e = rows.find((r) => r.measure.startsWith("alert → terminal"));
  const header = `${"measure".padEnd(46)} ${"n".padStart(6)} ${"per s".padStart(9)} ${"p50 ms".padStart(8)} ${"p99 ms".padStart(8)}`;
  console.log(`\nProduction path on PostgreSQL (HTTP intake → pg-boss → ${WORKERS} worker processes → terminal incident, simulated fleet)\n`);
  console.log(header);
  console.log("-".repeat(header.length));
  const num = (v: number | undefined, digits: number): string => (v === undefined || Number.isNaN(v) ? "-" : v.toFixed(digits));
  for (const r of rows) {
    console.log(`${r.measure.padEnd(46)} ${String(r.count).padStart(6)} ${num(r.perSecond, 1).padStart(9)} ${num(r.p50Ms, 1).padStart(8)} ${num(r.p99Ms, 1).padStart(8)}`);
  }
  if (ceiling !== undefined && e2e !== undefined) {
    console.log(`\nend-to-end incidents/s vs the queue's no-op ceiling: ${(e2e.perSecond / ceiling.perSecond).toFixed(3)} (${e2e.perSecond.toFixed(1)} / ${ceiling.perSecond.toFixed(1)})`);
  }
}
