import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../app/config.js";
import { startService, type RunningService } from "../../interfaces/service.js";
import { Rng } from "../../environments/simulator/rng.js";
import { testBackends, type ProcessDatabase } from "../helpers/backends.js";
import { alertmanagerBody, badRolloutWorld, post, waitFor, writeFleet } from "../helpers/fleet.js";

const WORKLOADS = 20;
const ALERTS = 2000;

describe.each(testBackends())("an alert storm, on $name", (backend) => {
  let pd: ProcessDatabase;
  let service: RunningService;
  let dir: string;

  beforeAll(async () => {
    pd = await backend.forProcesses();
    dir = await mkdtemp(path.join(os.tmpdir(), "suture-storm-"));
    const worlds = Array.from({ length: WORKLOADS }, (_, i) => badRolloutWorld(`w${i}`, `team-${i}`, "api", 100 + i));
    service = await startService(loadConfig({ ...process.env, ...pd.env }), {
      migrate: true,
      serve: { host: "127.0.0.1", port: 0, fleetFile: await writeFleet(dir, worlds) },
      worker: { concurrency: 4 },
    });
  }, 120_000);

  afterAll(async () => {
    await service.close();
    await pd.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  it("2,000 alerts in bursts against 20 workloads open exactly 20 incidents, lose none, and never remediate one workload twice at once", async () => {
    // Given 20 workloads, each with a bad rollout, and Alertmanager repeating their alerts in bursts
    const rng = new Rng(42);
    const bodies: Array<Record<string, unknown>> = [];
    let alerts = 0;
    while (alerts < ALERTS) {
      // Each notification groups 1-5 alerts of random workloads, as Alertmanager groups do.
      const n = Math.min(rng.int(1, 5), ALERTS - alerts);
      const group = Array.from({ length: n }, () => rng.int(0, WORKLOADS - 1));
      const parts = group.map((w) => alertmanagerBody({ alertname: "KubePodNotReady", service: "api", namespace: `team-${w}` }));
      const first = parts[0]!;
      bodies.push({ ...first, commonLabels: { alertname: "KubePodNotReady" }, alerts: parts.flatMap((p) => p["alerts"] as unknown[]) });
      alerts += n;
    }
    // When they arrive in bursts of 50 concurrent requests while workers are already acting
    const accepted: number[] = [];
    for (let i = 0; i < bodies.length; i += 50) {
      const burst = await Promise.all(bodies.slice(i, i + 50).map((b) => post(`${service.url!}/v1/alerts/alertmanager`, b)));
      for (const r of burst) {
        expect(r.status, JSON.stringify(r.body)).toBe(202);
        accepted.push((r.body["alerts"] as unknown[]).length);
      }
    }
    expect(accepted.reduce((a, b) => a + b, 0)).toBe(ALERTS);
    // Then every incident finishes
    const db = service.suture.db;
    await waitFor(async () => (await db.pool.query("SELECT 1 FROM incidents WHERE status NOT IN ('resolved', 'escalated')")).rows.length === 0, 90_000, "every incident to finish");
    // And there are exactly 20 incidents, one per workload, all resolved
    const incidents = await db.pool.query<{ id: string; fingerprint: string; status: string }>("SELECT id, fingerprint, status FROM incidents");
    expect(incidents.rows).toHaveLength(WORKLOADS);
    expect(new Set(incidents.rows.map((r) => r.fingerprint)).size).toBe(WORKLOADS);
    expect(incidents.rows.every((r) => r.status === "resolved")).toBe(true);
    // And every alert is stored and attached to its workload's incident
    const stored = await db.pool.query<{ n: number; attached: number }>("SELECT count(*)::int AS n, count(incident_id)::int AS attached FROM alerts");
    expect(stored.rows[0]).toEqual({ n: ALERTS, attached: ALERTS });
    const requests = await db.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM intake_requests");
    expect(requests.rows[0]?.n).toBe(bodies.length);
    // And one remediation per workload, never two in flight on the same workload
    const actions = await db.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM actions WHERE kind = 'remediation'");
    expect(actions.rows[0]?.n).toBe(WORKLOADS);
    const locks = await db.pool.query<{ resource: string; acquired_at: Date; released_at: Date | null; incident_id: string }>(
      "SELECT resource, incident_id, acquired_at, released_at FROM resource_locks ORDER BY resource, acquired_at",
    );
    expect(new Set(locks.rows.map((l) => l.resource)).size).toBe(WORKLOADS);
    for (let i = 1; i < locks.rows.length; i++) {
      const prev = locks.rows[i - 1]!;
      const cur = locks.rows[i]!;
      if (prev.resource !== cur.resource) continue;
      expect(prev.released_at, `${prev.resource} lock of ${prev.incident_id} never released`).not.toBeNull();
      expect(cur.acquired_at.getTime()).toBeGreaterThanOrEqual(prev.released_at!.getTime());
    }
  }, 240_000);
});
