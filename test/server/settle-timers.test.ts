import { afterEach, describe, expect, it } from "vitest";
import { IncidentWorker } from "../../interfaces/worker.js";
import { IncidentQueue } from "../../store/queue.js";
import type { IncidentStateValue } from "../../graphs/state.js";
import { nextOperatorStep } from "../../app/operator-step.js";
import { testBackends } from "../helpers/backends.js";
import { alertmanagerBody, badRolloutWorld, post, waitFor } from "../helpers/fleet.js";
import { startTestService, type TestService } from "../helpers/service.js";

/** Settle interval of rollout_undo in these tests (the policy file's override). */
const SETTLE_SECONDS = Number(process.env["SETTLE_TEST_SECONDS"] ?? 30);
const INCIDENTS = Number(process.env["SETTLE_TEST_INCIDENTS"] ?? 200);
const CLOSED = ["resolved", "escalated", "closed_no_action", "resolved_by_source", "dead_letter"];

/** A one-workload world with a bad rollout whose clock follows the wall clock (5 s ticks, so a rollback shows within the settle interval). */
function wallWorld(i: number): Record<string, unknown> {
  const world = badRolloutWorld(`s${i}`, `settle-${i}`, "api", 500 + i);
  return { ...world, clock: "wall", environment: { ...(world["environment"] as Record<string, unknown>), tickSeconds: 5 } };
}

const POLICY = `verification:\n  settleSeconds:\n    rollout_undo: ${SETTLE_SECONDS}\nresourceLock:\n  whenBusy: wait\n  waitSeconds: 5\n`;

/** What the test needs of a running setup: the service (intake, no worker), and workers it starts and stops. */
interface Setup {
  t: TestService;
  workers: Array<{ worker: IncidentWorker; queue: IncidentQueue }>;
  /** Opens an incident on workload settle-<i>/api with this alert name; returns its id. */
  open(i: number, alertname?: string): Promise<string>;
  startWorker(concurrency: number): Promise<{ worker: IncidentWorker; queue: IncidentQueue }>;
  status(id: string): Promise<string>;
  /** The incident's remediation, when it ran, and its settle deadline (ms). */
  remediation(id: string): Promise<{ executedAt: number; verifiedAt: number | null; verdict: string | null } | undefined>;
}

/** The time verify recorded its verdict (the audit row of its verification). */
async function verifiedAt(t: TestService, id: string): Promise<number | null> {
  const row = await t.service.suture.db.pool.query<{ at: Date }>("SELECT at FROM audit_log WHERE incident_id = $1 AND actor = 'verify' ORDER BY id LIMIT 1", [id]);
  return row.rows[0]?.at.getTime() ?? null;
}

describe.each(testBackends())("durable settle timers on the wall clock, on $name", (backend) => {
  let setup: Setup | undefined;

  afterEach(async () => {
    if (setup === undefined) return;
    for (const w of setup.workers) await w.worker.stop(5_000).catch(() => undefined);
    await setup.t.close();
    setup = undefined;
  });

  async function start(worlds: number): Promise<Setup> {
    const t = await startTestService(backend, {
      worlds: Array.from({ length: worlds }, (_, i) => wallWorld(i)),
      files: { "policy.yaml": POLICY },
      env: { SUTURE_POLICY: "{dir}/policy.yaml" },
    });
    const s = t.service;
    const created: Setup = {
      t,
      workers: [],
      async open(i, alertname = "KubePodNotReady") {
        const res = await post(`${t.url}/v1/alerts/alertmanager`, alertmanagerBody({ alertname, service: "api", namespace: `settle-${i}` }));
        expect(res.status, JSON.stringify(res.body)).toBe(202);
        return (res.body["alerts"] as Array<{ incidentId: string }>)[0]!.incidentId;
      },
      async startWorker(concurrency) {
        const queue = await IncidentQueue.open(s.suture.db, { supervise: true, timing: { heartbeatSeconds: 10, superviseIntervalSeconds: 1 } });
        const worker = new IncidentWorker(s.suture, queue, { concurrency, expiryIntervalMs: 0 });
        await worker.start();
        const w = { worker, queue };
        created.workers.push(w);
        return w;
      },
      async status(id) {
        return (await s.suture.store.getIncident(id)).status;
      },
      async remediation(id) {
        const a = (await s.suture.store.actionsFor(id)).find((x) => x.kind === "remediation" && x.executed_at !== null);
        if (a === undefined) return undefined;
        return { executedAt: a.executed_at!.getTime(), verifiedAt: await verifiedAt(t, id), verdict: a.verdict };
      },
    };
    return created;
  }

  it(`verifies each of ${INCIDENTS} incidents settling at once within 5 s of its settle deadline, with 2 workers × 2 slots and no slot held while they wait`, async () => {
    // Given 200 wall-clock workloads with a bad rollout, a policy letting rollout_undo settle 30 s, and 2 workers with 2 slots each
    const started = Date.now();
    setup = await start(INCIDENTS);
    const h = setup;
    const installed = Date.now();
    await h.startWorker(2);
    await h.startWorker(2);
    // When every workload alerts at once
    const ids: string[] = [];
    for (let i = 0; i < INCIDENTS; i += 25) ids.push(...(await Promise.all(Array.from({ length: Math.min(25, INCIDENTS - i) }, (_, j) => h.open(i + j)))));
    // Then while they wait for their actions to settle, no worker runs a job: every wait is in the queue
    const samples: Array<{ at: number; busy: number }> = [];
    let allWaitingSince: number | undefined;
    await waitFor(
      async () => {
        const statuses = await Promise.all(ids.map((id) => h.status(id)));
        if (statuses.every((st) => st === "verifying")) {
          allWaitingSince ??= Date.now();
          const active = h.workers.reduce((n, w) => n + w.worker.active.length, 0);
          const depth = await h.t.service.queue.depth();
          const activeJobs = depth.filter((d) => d.queue === "suture-incidents" && d.state === "active").reduce((n, d) => n + d.jobs, 0);
          samples.push({ at: Date.now(), busy: active + activeJobs });
        }
        return statuses.every((st) => CLOSED.includes(st));
      },
      (SETTLE_SECONDS + 240) * 1000,
      "every incident to finish",
    );
    const finished = Date.now();
    // And every incident was verified (recovered) within 5 s of its own settle deadline
    const late: string[] = [];
    let worst = 0;
    let firstDeadline = Infinity;
    let lastDeadline = 0;
    for (const id of ids) {
      const r = await h.remediation(id);
      expect(r, `incident ${id} acted`).toBeDefined();
      expect(await h.status(id), id).toBe("resolved");
      expect(r!.verdict).toBe("recovered");
      const deadline = r!.executedAt + SETTLE_SECONDS * 1000;
      firstDeadline = Math.min(firstDeadline, deadline);
      lastDeadline = Math.max(lastDeadline, deadline);
      const lag = r!.verifiedAt! - deadline;
      worst = Math.max(worst, lag);
      expect(lag, `incident ${id} verified before its deadline`).toBeGreaterThanOrEqual(0);
      if (lag > 5000) late.push(`${id}: ${lag} ms`);
    }
    // (The last incident's job ends a moment after its status says verifying; from 1 s after every incident waited until the first deadline, nothing ran.)
    const whileAllWaited = samples.filter((x) => allWaitingSince !== undefined && x.at >= allWaitingSince + 1000 && x.at < firstDeadline);
    expect(whileAllWaited.length, "samples taken while every incident waited").toBeGreaterThan(0);
    expect(whileAllWaited.filter((x) => x.busy > 0)).toEqual([]);
    console.log(
      `settle timers (${backend.name}): ${INCIDENTS} incidents, install ${installed - started} ms, all finished ${finished - installed} ms after install; ` +
        `deadlines spread ${lastDeadline - firstDeadline} ms; worst verify lag ${worst} ms; ${samples.length} samples while all waited`,
    );
    expect(late).toEqual([]);
  }, 600_000);
});
