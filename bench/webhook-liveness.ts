/**
 * Liveness of `suture serve` on the embedded back end while one large Alertmanager notification is
 * processed: 1,000 alerts with distinct fingerprints on workloads a fleet owns, so intake opens
 * 1,000 incidents (each one a world copy, an audit entry and a queued job) in one transaction.
 * A worker thread polls `/healthz` every 20 ms; the baseline, in the same run and process, is the
 * same poller against the idle server. Also run with a worker in the process (`serve
 * --with-worker`), with a third window after the webhook while the worker runs the incidents.
 *
 *   npx tsx bench/webhook-liveness.ts      # alone; `npm run bench` runs it too
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { stringify } from "yaml";
import { loadConfig } from "../app/config.js";
import { startService, type RunningService } from "../interfaces/service.js";
import { postOffThread, startHealthzProbe, type HealthzSample } from "./healthz-probe.js";
import { percentile } from "./stats.js";

const ALERTS = Number(process.env["BENCH_WEBHOOK_ALERTS"] ?? 1000);
const WORLDS = 20;
const IDLE_MS = 2000;
const AFTER_MS = 3000;
const INTERVAL_MS = 20;

/** One row of the liveness table. */
export interface LivenessRow {
  mode: string;
  window: string;
  samples: number;
  failed: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** How long the webhook took to answer (the "during" row only). */
  webhookMs?: number;
}

function world(i: number): Record<string, unknown> {
  return {
    name: `live${i}`,
    namespace: `live-${i}`,
    advanceToMinutes: 0,
    environment: {
      seed: 900 + i,
      historyMinutes: 30,
      tickSeconds: 60,
      services: [{ name: "api", replicas: 3, image: "registry.internal/api:2.3.1", revisions: [{ image: "registry.internal/api:2.2.0", deployedAtMinutes: -20160 }] }],
      faults: [{ kind: "bad-rollout", service: "api", atMinutes: -12, params: { variant: "missing-image", version: "2.4.0" } }],
    },
  };
}

/** One Alertmanager v4 notification of `n` firing alerts, each its own fingerprint, on the fleet's workloads. */
export function largeWebhook(n: number, tag: string): string {
  const alerts = Array.from({ length: n }, (_, i) => {
    const labels = { alertname: "KubePodNotReady", service: "api", namespace: `live-${i % WORLDS}`, pod: `api-${tag}-${i}`, severity: "warning" };
    return {
      status: "firing",
      labels,
      annotations: { description: `Pod ${labels.pod} is not ready` },
      startsAt: "2026-11-23T10:00:00Z",
      endsAt: "0001-01-01T00:00:00Z",
      generatorURL: "http://prometheus:9090/graph?g0.expr=kube_pod_status_ready",
      fingerprint: `${tag}-${i}`,
    };
  });
  return JSON.stringify({
    version: "4",
    groupKey: '{}:{alertname="KubePodNotReady"}',
    truncatedAlerts: 0,
    status: "firing",
    receiver: "suture",
    groupLabels: { alertname: "KubePodNotReady" },
    commonLabels: { alertname: "KubePodNotReady", service: "api" },
    commonAnnotations: {},
    externalURL: "http://alertmanager:9093",
    alerts,
  });
}

function summarize(mode: string, window: string, samples: HealthzSample[], webhookMs?: number): LivenessRow {
  const latencies = samples.map((s) => s.latencyMs);
  return {
    mode,
    window,
    samples: samples.length,
    failed: samples.filter((s) => !s.ok).length,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    maxMs: latencies.reduce((a, b) => Math.max(a, b), 0),
    ...(webhookMs !== undefined ? { webhookMs } : {}),
  };
}

/** Posts a notification from a worker thread; checks every alert opened an incident; returns when it was sent and answered. */
async function postWebhook(service: RunningService, body: string, expectOpened: number): Promise<{ startedAt: number; endedAt: number }> {
  const res = await postOffThread(`${service.url!}/v1/alerts/alertmanager`, body);
  if (res.status !== 202) throw new Error(`intake refused the benchmark webhook: ${res.status} ${res.text.slice(0, 200)}`);
  const result = JSON.parse(res.text) as { alerts: Array<{ disposition: string }> };
  const opened = result.alerts.filter((a) => a.disposition === "opened").length;
  if (opened !== expectOpened) throw new Error(`expected ${expectOpened} incidents opened, got ${opened}`);
  return res;
}

async function sleep(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

async function measure(mode: string, withWorker: boolean): Promise<LivenessRow[]> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "suture-liveness-"));
  const fleet = path.join(dir, "fleet.yaml");
  await writeFile(fleet, stringify({ worlds: Array.from({ length: WORLDS }, (_, i) => world(i)) }));
  // The data directory on disk, as `suture serve` uses it, not memory://.
  const service = await startService(loadConfig({ ...process.env, SUTURE_HOME: dir, DATABASE_URL: "" }), {
    migrate: true,
    serve: { host: "127.0.0.1", port: 0, fleetFile: fleet },
    ...(withWorker ? { worker: { concurrency: 1 } } : {}),
  });
  try {
    const healthz = `${service.url!}/healthz`;
    // Warm the intake path (JIT, prepared plans) with a small notification first.
    await postWebhook(service, largeWebhook(WORLDS, "warm"), WORLDS);
    if (withWorker) {
      const deadline = Date.now() + 120_000;
      while ((await service.suture.db.pool.query("SELECT 1 FROM incidents WHERE status IN ('queued', 'open', 'running') LIMIT 1")).rows.length > 0) {
        if (Date.now() > deadline) throw new Error("warm-up incidents did not finish");
        await sleep(100);
      }
    }
    let probe = await startHealthzProbe(healthz, INTERVAL_MS);
    await sleep(IDLE_MS);
    const idle = await probe.stop();

    const body = largeWebhook(ALERTS, "big");
    probe = await startHealthzProbe(healthz, INTERVAL_MS);
    const { startedAt: started, endedAt: ended } = await postWebhook(service, body, ALERTS);
    let after: HealthzSample[] = [];
    if (withWorker) await sleep(AFTER_MS);
    const all = await probe.stop();
    if (withWorker) after = all.filter((s) => s.dueAt > ended);
    const during = all.filter((s) => s.dueAt >= started && s.dueAt <= ended);
    const rows = [summarize(mode, "idle (baseline)", idle), summarize(mode, `during ${ALERTS.toLocaleString("en-US")}-alert webhook`, during, ended - started)];
    if (withWorker) rows.push(summarize(mode, `${AFTER_MS / 1000} s after, worker running incidents`, after));
    return rows;
  } finally {
    await service.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Measures `serve` and `serve --with-worker` on the embedded back end. */
export async function benchWebhookLiveness(): Promise<LivenessRow[]> {
  return [...(await measure("serve", false)), ...(await measure("serve --with-worker", true))];
}

/** Prints the liveness table; each p99 is compared with its mode's idle p99. */
export function printLivenessTable(rows: LivenessRow[]): void {
  const header = `${"mode".padEnd(20)} ${"window".padEnd(40)} ${"n".padStart(5)} ${"fail".padStart(5)} ${"p50 ms".padStart(8)} ${"p99 ms".padStart(8)} ${"max ms".padStart(8)} ${"p99 vs idle".padStart(12)} ${"webhook ms".padStart(11)}`;
  console.log(
    `\n/healthz while one ${ALERTS.toLocaleString("en-US")}-alert Alertmanager webhook opens ${ALERTS.toLocaleString("en-US")} incidents (embedded PGlite, polled every ${INTERVAL_MS} ms from a worker thread)\n`,
  );
  console.log(header);
  console.log("-".repeat(header.length));
  for (const r of rows) {
    const idle = rows.find((b) => b.mode === r.mode && b.window.startsWith("idle"));
    const ratio = idle !== undefined ? `${(r.p99Ms / idle.p99Ms).toFixed(1)}×` : "-";
    console.log(
      `${r.mode.padEnd(20)} ${r.window.padEnd(40)} ${String(r.samples).padStart(5)} ${String(r.failed).padStart(5)} ${r.p50Ms.toFixed(1).padStart(8)} ${r.p99Ms.toFixed(1).padStart(8)} ${r.maxMs.toFixed(1).padStart(8)} ${ratio.padStart(12)} ${(r.webhookMs !== undefined ? r.webhookMs.toFixed(0) : "-").padStart(11)}`,
    );
  }
}

if (process.argv[1]?.endsWith("webhook-liveness.ts") === true) {
  const rows = await benchWebhookLiveness();
  printLivenessTable(rows);
  const out = path.resolve(import.meta.dirname, "results", "webhook-liveness.json");
  await mkdir(path.dirname(out), { recursive: true });
  await writeFile(out, `${JSON.stringify({ at: new Date().toISOString(), alerts: ALERTS, rows }, null, 2)}\n`);
}
