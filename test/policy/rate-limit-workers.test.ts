import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../app/config.js";
import { startService, type RunningService } from "../../interfaces/service.js";
import { testBackends, type ProcessDatabase } from "../helpers/backends.js";
import { alertmanagerBody, post, waitFor, writeFleet } from "../helpers/fleet.js";
import { spawnWorker, type WorkerProcess } from "../helpers/workers.js";

const postgres = testBackends().find((b) => b.name === "postgres");
const SERVICES = ["cart", "catalog", "checkout", "search", "reviews", "pricing", "shipping", "ratings", "images", "wishlist"];

/** One namespace whose ten workloads all rolled out an image tag that does not exist. */
function shopWorld(): Record<string, unknown> {
  return {
    name: "shop",
    namespace: "shop",
    advanceToMinutes: 0,
    environment: {
      seed: 41,
      historyMinutes: 30,
      tickSeconds: 60,
      services: SERVICES.map((name) => ({
        name,
        replicas: 3,
        image: `registry.internal/${name}:3.1.0`,
        revisions: [{ image: `registry.internal/${name}:3.0.0`, deployedAtMinutes: -20160 }],
      })),
      faults: SERVICES.map((service) => ({ kind: "bad-rollout", service, atMinutes: -12, params: { variant: "missing-image", version: "3.2.0" } })),
    },
  };
}

describe.skipIf(postgres === undefined)("a rate limit across two worker processes on real PostgreSQL", () => {
  let pd: ProcessDatabase;
  let intake: RunningService;
  let dir: string;
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    pd = await postgres!.forProcesses();
    dir = await mkdtemp(path.join(os.tmpdir(), "suture-ratelimit-"));
    const policyFile = path.join(dir, "policy.yaml");
    // At most two rollbacks per namespace per hour; nothing else stands in the way.
    await writeFile(policyFile, "rateLimits:\n  - action: rollback\n    max: 2\n    perMinutes: 60\n    per: namespace\nblastRadius:\n  maxConcurrentWorkloads: 10\n");
    const env = { ...pd.env, SUTURE_POLICY: policyFile };
    intake = await startService(loadConfig({ ...process.env, ...env }), { migrate: true, serve: { host: "127.0.0.1", port: 0, fleetFile: await writeFleet(dir, [shopWorld()]) } });
    workers.push(await spawnWorker(env, 3), await spawnWorker(env, 3));
  }, 120_000);

  afterAll(async () => {
    for (const w of workers) w.child.kill("SIGKILL");
    await intake.close();
    await pd.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  it("lets exactly two of ten concurrent incidents roll back, and says why the others did not", async () => {
    // Given ten broken workloads in one namespace, alerting at the same moment
    const db = intake.suture.db;
    const responses = await Promise.all(SERVICES.map((service) => post(`${intake.url!}/v1/alerts/alertmanager`, alertmanagerBody({ alertname: "KubePodNotReady", service, namespace: "shop" }))));
    expect(responses.map((r) => r.status)).toEqual(SERVICES.map(() => 202));

    // When two worker processes take the incidents concurrently
    const terminal = async (): Promise<number> => (await db.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM incidents WHERE status IN ('resolved', 'escalated')")).rows[0]?.n ?? 0;
    await waitFor(async () => (await terminal()) === SERVICES.length, 90_000, "all incidents to finish");

    // Then exactly two rollbacks ran, across both workers, and three incidents were handed over with the rate limit as the reason
    const rollbacks = await db.pool.query<{ target_service: string; incident_id: string }>(
      "SELECT target_service, incident_id FROM actions WHERE tool = 'rollout_undo' AND kind = 'remediation' AND status = 'succeeded'",
    );
    expect(rollbacks.rows).toHaveLength(2);
    const incidents = await db.pool.query<{ id: string; status: string; worker: string | null }>("SELECT id, status, worker FROM incidents ORDER BY id");
    expect(incidents.rows.filter((i) => i.status === "resolved")).toHaveLength(2);
    const escalated = incidents.rows.filter((i) => i.status === "escalated").map((i) => i.id);
    expect(escalated).toHaveLength(SERVICES.length - 2);
    const verdicts = await db.pool.query<{ incident_id: string; summary: string }>("SELECT incident_id, summary FROM audit_log WHERE kind = 'policy_verdict' AND incident_id = ANY($1)", [escalated]);
    expect(verdicts.rows).toHaveLength(SERVICES.length - 2);
    for (const v of verdicts.rows) expect(v.summary).toMatch(/deny rollout_undo .*rate limit reached: 2 rollback on namespace shop in the last 60 min; at most 2 \(policy\.rateLimits\[0\]\)/);
    const workersUsed = new Set(incidents.rows.map((i) => i.worker?.split(":")[1]));
    console.log(
      `[rate limit across workers] ${rollbacks.rows.length} rollbacks (${rollbacks.rows.map((r) => r.target_service).join(", ")}), ${escalated.length} denied; incidents ran on ${workersUsed.size} worker process(es)`,
    );
    expect(workersUsed.size).toBe(2);
  }, 120_000);
});
