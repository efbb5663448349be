import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../app/config.js";
import { startService, type RunningService } from "../../interfaces/service.js";
import { Rng } from "../../environments/simulator/rng.js";
import { testBackends, type ProcessDatabase } from "../helpers/backends.js";
import { alertmanagerBody, badRolloutWorld, pagerDutyBody, post, waitFor, writeFleet } from "../helpers/fleet.js";
import { spawnWorker, type WorkerProcess } from "../helpers/workers.js";

const INCIDENTS = 200;
const LATENCY_SAMPLES = 30;
const postgres = testBackends().find((b) => b.name === "postgres");

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

describe.skipIf(postgres === undefined)("two worker processes on real PostgreSQL, killed at random", () => {
  let pd: ProcessDatabase;
  let intake: RunningService;
  let dir: string;
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    pd = await postgres!.forProcesses();
    dir = await mkdtemp(path.join(os.tmpdir(), "suture-crash-"));
    const worlds = Array.from({ length: INCIDENTS }, (_, i) => badRolloutWorld(`c${i}`, `crash-${i}`, "api", 1000 + i));
    intake = await startService(loadConfig({ ...process.env, ...pd.env }), { migrate: true, serve: { host: "127.0.0.1", port: 0, fleetFile: await writeFleet(dir, worlds) } });
    workers.push(await spawnWorker(pd.env), await spawnWorker(pd.env));
  }, 180_000);

  afterAll(async () => {
    for (const w of workers) w.child.kill("SIGKILL");
    await intake.close();
    await pd.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  const startedAt = async (id: string): Promise<{ opened: number; started: number | null }> => {
    const row = await intake.suture.db.pool.query<{ opened_at: Date; started_at: Date | null }>("SELECT opened_at, started_at FROM incidents WHERE id = $1", [id]);
    const r = row.rows[0]!;
    return { opened: r.opened_at.getTime(), started: r.started_at?.getTime() ?? null };
  };

  it("starts an idle system's incident within 1 s p99, loses nothing under SIGKILL, and never executes an action twice", async () => {
    const db = intake.suture.db;
    const url = intake.url!;
    const body = (i: number): Record<string, unknown> =>
      i % 2 === 0
        ? alertmanagerBody({ alertname: "KubePodNotReady", service: "api", namespace: `crash-${i}` })
        : pagerDutyBody({ action: "trigger", dedupKey: `crash-${i}-api`, service: "api", namespace: `crash-${i}` });
    const route = (i: number): string => `${url}${i % 2 === 0 ? "/v1/alerts/alertmanager" : "/v1/alerts/pagerduty"}`;
    const idOf = (r: { body: Record<string, unknown> }): string => String((r.body["alerts"] as Array<{ incidentId: string }> | undefined)?.[0]?.incidentId ?? r.body["incident_id"]);

    // Given an idle system, when alerts arrive one at a time
    const latencies: number[] = [];
    for (let i = 0; i < LATENCY_SAMPLES; i++) {
      const r = await post(route(i), body(i));
      expect(r.status).toBe(202);
      const id = idOf(r);
      await waitFor(async () => (await startedAt(id)).started !== null, 10_000, `${id} to start`);
      const t = await startedAt(id);
      latencies.push(t.started! - t.opened);
      await waitFor(async () => (await db.pool.query("SELECT 1 FROM incidents WHERE id = $1 AND status = 'resolved'", [id])).rows.length === 1, 20_000, `${id} to resolve`);
    }
    // Then each graph starts within a second of intake (LISTEN/NOTIFY wakes an idle worker)
    const p50 = percentile(latencies, 50);
    const p99 = percentile(latencies, 99);
    console.log(`intake → graph start on an idle system: p50 ${p50} ms, p99 ${p99} ms over ${latencies.length} alerts`);
    expect(p99).toBeLessThan(1000);

    // When the remaining alerts arrive at once and workers are SIGKILLed at random moments
    const rng = new Rng(7);
    const posted = await Promise.all(Array.from({ length: INCIDENTS - LATENCY_SAMPLES }, (_, k) => post(route(k + LATENCY_SAMPLES), body(k + LATENCY_SAMPLES))));
    expect(posted.every((r) => r.status === 202)).toBe(true);
    let kills = 0;
    while (kills < 5) {
      await new Promise((resolve) => setTimeout(resolve, rng.int(50, 600)));
      // Kill a worker while it is in the middle of an incident.
      const busy = await db.pool.query<{ worker: string }>("SELECT DISTINCT worker FROM incidents WHERE status = 'running' AND worker IS NOT NULL");
      const busyPids = new Set(busy.rows.map((r) => Number(r.worker.split(":").pop())));
      const candidates = workers.map((w, i) => (busyPids.has(w.child.pid ?? -1) ? i : -1)).filter((i) => i >= 0);
      if (candidates.length === 0) continue;
      const victim = candidates[rng.int(0, candidates.length - 1)]!;
      workers[victim]!.child.kill("SIGKILL");
      expect((await workers[victim]!.exited).signal).toBe("SIGKILL");
      kills += 1;
      workers[victim] = await spawnWorker(pd.env);
    }
    const terminal = "('resolved', 'escalated', 'closed_no_action', 'resolved_by_source', 'dead_letter')";
    await waitFor(async () => (await db.pool.query(`SELECT 1 FROM incidents WHERE status NOT IN ${terminal}`)).rows.length === 0, 150_000, "every incident to reach a terminal state").catch(
      async (error: unknown) => {
        // Say where the stragglers are stuck, with the workers' output.
        const stuck = await db.pool.query(
          `SELECT i.id, i.status, i.job_attempts, i.last_error, j.state, j.retry_count, j.start_after FROM incidents i LEFT JOIN pgboss.job j ON j.singleton_key = i.id WHERE i.status NOT IN ${terminal} LIMIT 5`,
        );
        console.log(JSON.stringify(stuck.rows, null, 1), workers.map((w) => w.output().slice(-2000)).join("\n---\n"));
        throw error;
      },
    );

    // Then every incident reached a terminal state, resolved by its one rollback
    const statuses = await db.pool.query<{ status: string; n: number }>("SELECT status, count(*)::int AS n FROM incidents GROUP BY status");
    const others = await db.pool.query<{ id: string; summary: string }>("SELECT id, summary FROM incidents WHERE status <> 'resolved'");
    const why = await Promise.all(others.rows.map(async (r) => `${r.id}: ${r.summary}\n${(await intake.suture.store.auditFor(r.id)).map((a) => `  ${a.actor} ${a.kind}: ${a.summary}`).join("\n")}`));
    expect(statuses.rows, why.join("\n")).toEqual([{ status: "resolved", n: INCIDENTS }]);
    // And every accepted alert is stored
    const alerts = await db.pool.query<{ n: number; requests: number }>("SELECT count(*)::int AS n, count(DISTINCT request_id)::int AS requests FROM alerts");
    expect(alerts.rows[0]).toEqual({ n: INCIDENTS, requests: INCIDENTS });
    // And the worlds executed exactly as many operations as there are distinct succeeded actions: none twice
    const executed = await db.pool.query<{ ops: number; distinct_keys: number }>(
      `SELECT count(*)::int AS ops, count(DISTINCT op->>'key')::int AS distinct_keys
       FROM environments e, jsonb_array_elements(e.state->'operations') op WHERE e.id LIKE 'world:%'`,
    );
    const actions = await db.pool.query<{ n: number }>("SELECT count(DISTINCT idempotency_key)::int AS n FROM actions WHERE status = 'succeeded'");
    expect(executed.rows[0]?.ops).toBe(actions.rows[0]?.n);
    expect(executed.rows[0]?.distinct_keys).toBe(executed.rows[0]?.ops);
    expect(actions.rows[0]?.n).toBe(INCIDENTS);
    const retried = await db.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM incidents WHERE job_attempts > 1");
    console.log(`${kills} SIGKILLs; ${retried.rows[0]?.n ?? 0} incident(s) were taken up again after a worker died`);

    // And each worker serves its own metrics (node durations are observed where nodes run)
    const metricsUrl = /metrics on (http:\/\/\S+)\/metrics/.exec(workers[0]!.output())?.[1];
    expect(metricsUrl, workers[0]!.output()).toBeDefined();
    expect(await (await fetch(`${metricsUrl!}/metrics`)).text()).toContain("# TYPE suture_node_duration_seconds histogram");

    // And SIGTERM stops both workers cleanly
    for (const w of workers) w.child.kill("SIGTERM");
    for (const w of workers) expect((await w.exited).code, w.output()).toBe(0);
  }, 400_000);
});
