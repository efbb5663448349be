import { afterEach, describe, expect, it } from "vitest";
import { IncidentWorker } from "../../interfaces/worker.js";
import { IncidentQueue } from "../../store/queue.js";
import type { IncidentStateValue } from "../../graphs/state.js";
import { nextOperatorStep } from "../../app/operator-step.js";
import { testBackends } from "../helpers/backends.js";
import { alertmanagerBody, badRolloutWorld, post, waitFor } from "../helpers/fleet.js";
import { startTestService, type TestService } from "../helpers/service.js";

/** Settle interval of rollout_undo in the single-incident tests (the policy file's override). */
const SETTLE_SECONDS = 15;
/**
 * Settle interval in the storm test: longer than it takes 4 slots to bring every incident to act,
 * so that all of them wait at once. Measured on a loaded 2-core machine: about 125 s for 200 on
 * the embedded database (one session: about 0.6 s of graph work per incident), 17–24 s on PostgreSQL.
 */
function stormSettleSeconds(backend: string): number {
  const given = process.env["SETTLE_TEST_SECONDS"];
  // Measured in CI: every incident acted within ~7 s of install on embedded (30) and ~24 s on PostgreSQL (200);
  // alone the 200 act in ~17 s, but three CI runs on 2026-12-01 (whole suite ~35 % slower than the
  // week before) never had all 200 waiting before a 40 s deadline, so PostgreSQL gets 60 s.
  return given !== undefined ? Number(given) : backend === "embedded" ? 25 : 60;
}
/**
 * Incidents in the storm test: the 200 on PostgreSQL (CI always runs it); on the embedded
 * database, whose one session makes the graph work before act serial (~0.6 s each, so 200 take
 * five minutes), 30 exercise the same timers (SETTLE_TEST_INCIDENTS=200 runs the full storm there).
 */
function stormIncidents(backend: string): number {
  const given = process.env["SETTLE_TEST_INCIDENTS"];
  return given !== undefined ? Number(given) : backend === "embedded" ? 30 : 200;
}
const CLOSED = ["resolved", "escalated", "closed_no_action", "resolved_by_source", "dead_letter"];

/** A one-workload world with a bad rollout whose clock follows the wall clock (10 s ticks, so a rollback shows within the settle interval). */
function wallWorld(i: number): Record<string, unknown> {
  const world = badRolloutWorld(`s${i}`, `settle-${i}`, "api", 500 + i);
  return { ...world, clock: "wall", environment: { ...(world["environment"] as Record<string, unknown>), tickSeconds: 10 } };
}

/**
 * A policy letting rollout_undo settle `settle` seconds, looked at once, at the deadline: these
 * tests are about the timers; adaptive looks are tested in test/graph/adaptive-verify.test.ts.
 */
function policy(settle: number): string {
  return `verification:\n  settleSeconds:\n    rollout_undo: ${settle}\n  sampleSeconds: ${Math.max(settle, 5)}\nresourceLock:\n  whenBusy: wait\n  waitSeconds: 5\n`;
}

/** What the test needs of a running setup: the service (intake, no worker), and workers it starts and stops. */
interface Setup {
  t: TestService;
  workers: Array<{ worker: IncidentWorker; queue: IncidentQueue }>;
  /** Opens an incident on workload settle-<i>/api with this alert name; returns its id. */
  open(i: number, alertname?: string): Promise<string>;
  startWorker(concurrency: number): Promise<{ worker: IncidentWorker; queue: IncidentQueue }>;
  status(id: string): Promise<string>;
  /** The statuses of these incidents (one query: the embedded database has one session). */
  statuses(ids: string[]): Promise<string[]>;
  /** The incident's remediation: its settle deadline, when verify judged it (ms), and the verdict. */
  remediation(id: string): Promise<{ deadline: number; verifiedAt: number | null; verdict: string | null } | undefined>;
}

/** The time verify recorded its verdict (the audit row of its verification). */
async function verifiedAt(t: TestService, id: string): Promise<number | null> {
  const row = await t.service.suture.db.pool.query<{ at: Date }>("SELECT at FROM audit_log WHERE incident_id = $1 AND actor = 'verify' ORDER BY id LIMIT 1", [id]);
  return row.rows[0]?.at.getTime() ?? null;
}

describe.each(testBackends())("durable settle timers on the wall clock, on $name", (backend) => {
  let setup: Setup | undefined;
  const INCIDENTS = stormIncidents(backend.name);

  afterEach(async () => {
    if (setup === undefined) return;
    for (const w of setup.workers) await w.worker.stop(5_000).catch(() => undefined);
    await setup.t.close();
    setup = undefined;
  });

  async function start(worlds: number, settle = SETTLE_SECONDS): Promise<Setup> {
    const t = await startTestService(backend, {
      worlds: Array.from({ length: worlds }, (_, i) => wallWorld(i)),
      files: { "policy.yaml": policy(settle) },
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
      async statuses(list) {
        const rows = await s.suture.db.pool.query<{ status: string }>("SELECT status FROM incidents WHERE id = ANY($1::text[])", [list]);
        return rows.rows.map((r) => r.status);
      },
      async remediation(id) {
        const a = (await s.suture.store.actionsFor(id)).find((x) => x.kind === "remediation" && x.executed_at !== null);
        // The deadline verify waits for: the attempt act recorded (its execution time and the effective settle interval).
        const attempt = ((await s.suture.graph.getState({ configurable: { thread_id: id } })).values as Partial<IncidentStateValue>).attempts?.[0];
        if (a === undefined || attempt === undefined) return undefined;
        expect(attempt.settleSeconds, "act recorded the policy's settle interval").toBe(settle);
        return { deadline: attempt.executedAt + attempt.settleSeconds * 1000, verifiedAt: await verifiedAt(t, id), verdict: a.verdict };
      },
    };
    return created;
  }

  it(`verifies each of ${INCIDENTS} incidents settling at once within 5 s of its settle deadline, with 2 workers × 2 slots and no slot held while they wait`, async () => {
    // Given 200 (30 on the embedded database) wall-clock workloads with a bad rollout, a policy letting rollout_undo settle long enough for all to act first, and 2 workers with 2 slots each
    const stormSettle = stormSettleSeconds(backend.name);
    const started = Date.now();
    setup = await start(INCIDENTS, stormSettle);
    const h = setup;
    const installed = Date.now();
    if (process.env["SETTLE_TEST_DEBUG"] === "1") console.error(`installed in ${installed - started} ms`);
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
        const statuses = await h.statuses(ids);
        if (process.env["SETTLE_TEST_DEBUG"] === "1")
          console.error(new Date().toISOString(), JSON.stringify(Object.fromEntries([...new Set(statuses)].map((x) => [x, statuses.filter((y) => y === x).length]))));
        if (statuses.every((st) => st === "verifying")) {
          allWaitingSince ??= Date.now();
          const active = h.workers.reduce((n, w) => n + w.worker.active.length, 0);
          const depth = await h.t.service.queue.depth();
          const activeJobs = depth.filter((d) => d.queue === "suture-incidents" && d.state === "active").reduce((n, d) => n + d.jobs, 0);
          samples.push({ at: Date.now(), busy: active + activeJobs });
        }
        return statuses.length === ids.length && statuses.every((st) => CLOSED.includes(st));
      },
      (stormSettle + 300) * 1000,
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
      const deadline = r!.deadline;
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

  /** Waits until the incident is verifying (its job ended, its action settling) and returns its settle deadline (ms). */
  async function untilVerifying(h: Setup, id: string): Promise<number> {
    await waitFor(async () => (await h.status(id)) === "verifying" && (await h.remediation(id)) !== undefined, 60_000, `${id} to wait for its action to settle`);
    return (await h.remediation(id))!.deadline;
  }

  it("loses nothing when the worker that started an incident stops abruptly while it waits: another worker verifies it on time", async () => {
    // Given an incident whose rollback is settling, started by worker 1
    setup = await start(1);
    const h = setup;
    const w1 = await h.startWorker(2);
    const id = await h.open(0);
    const deadline = await untilVerifying(h, id);
    // And the settle wait is in the queue, not in a worker: worker 1 runs nothing
    await waitFor(async () => w1.worker.active.length === 0, 10_000, "worker 1's job to end");
    const step = await nextOperatorStep(h.t.service.suture, id);
    expect(step).toMatchObject({ kind: "wait", command: null });
    expect(step.why).toContain(`a worker continues it at ${new Date(deadline).toISOString()}`);
    // When worker 1 stops abruptly and worker 2 starts
    await w1.queue.stop({ graceful: false });
    await h.startWorker(2);
    // Then worker 2 verifies it within 5 s of its deadline, and the rollback ran once
    await waitFor(async () => CLOSED.includes(await h.status(id)), SETTLE_SECONDS * 1000 + 30_000, "the incident to finish");
    const r = await h.remediation(id);
    expect(await h.status(id)).toBe("resolved");
    expect(r!.verifiedAt! - deadline).toBeGreaterThanOrEqual(0);
    expect(r!.verifiedAt! - deadline).toBeLessThan(5000);
    expect((await h.t.service.suture.store.actionsFor(id)).filter((a) => a.executed_at !== null).map((a) => a.tool)).toEqual(["rollout_undo"]);
  }, 180_000);

  it("loses nothing when a worker dies after the settle wait was checkpointed but before it was scheduled: the job's retry schedules it", async () => {
    // Given worker 1, whose process "dies" as it would schedule the continuation (it never gets to)
    setup = await start(1);
    const h = setup;
    const w1 = await h.startWorker(2);
    let die: (error: Error) => void = () => undefined;
    const dying = new Promise<never>((_, reject) => {
      die = reject;
    });
    w1.queue.schedule = () => dying;
    const id = await h.open(0);
    const deadline = await untilVerifying(h, id);
    expect(w1.worker.active).toEqual([id]);
    // When its queue stops abruptly (pg-boss fails its running job) and the handler never finishes the job
    await w1.queue.stop({ graceful: false });
    die(new Error("worker process killed"));
    // And worker 2 takes the job's retry
    await h.startWorker(2);
    // Then the retry scheduled the continuation, and it was verified within 5 s of its deadline, the rollback run once
    await waitFor(async () => CLOSED.includes(await h.status(id)), SETTLE_SECONDS * 1000 + 60_000, "the incident to finish");
    const r = await h.remediation(id);
    expect(await h.status(id)).toBe("resolved");
    expect(r!.verifiedAt! - deadline).toBeGreaterThanOrEqual(0);
    expect(r!.verifiedAt! - deadline).toBeLessThan(5000);
    expect((await h.t.service.suture.store.actionsFor(id)).filter((a) => a.executed_at !== null).map((a) => a.tool)).toEqual(["rollout_undo"]);
  }, 180_000);

  it("during one incident's settle wait, a resolved notification only annotates it, and another incident on the workload acts on nothing until it verified", async () => {
    // Given incident A on settle-0/api rolled the bad rollout back and waits for it to settle
    setup = await start(1);
    const h = setup;
    await h.startWorker(2);
    const a = await h.open(0, "KubePodNotReady");
    const deadline = await untilVerifying(h, a);
    // When Alertmanager reports A's alert resolved during the wait
    const resolved = await post(`${h.t.url}/v1/alerts/alertmanager`, alertmanagerBody({ alertname: "KubePodNotReady", service: "api", namespace: "settle-0", status: "resolved" }));
    expect(resolved.status).toBe(202);
    // Then A is still verifying (verification decides), and the notification is on its audit log
    expect(await h.status(a)).toBe("verifying");
    const audit = await h.t.service.suture.store.auditFor(a);
    expect(audit.map((e) => e.kind)).toContain("source_resolved");
    // When incident B alerts on the same workload during A's wait
    const b = await h.open(0, "KubeDeploymentReplicasMismatch");
    expect(b).not.toBe(a);
    await waitFor(async () => CLOSED.includes(await h.status(a)) && CLOSED.includes(await h.status(b)), SETTLE_SECONDS * 1000 + 60_000, "both incidents to finish");
    // Then A was resolved by its verification, not by the source
    expect(await h.status(a)).toBe("resolved");
    const verified = (await h.remediation(a))!.verifiedAt!;
    expect(verified).toBeGreaterThanOrEqual(deadline);
    // And B executed nothing and was not escalated: it waited for A's verification, looked again, and closed naming A
    const bRow = await h.t.service.suture.store.getIncident(b);
    expect(bRow.status, bRow.summary ?? "").toBe("closed_no_action");
    expect(bRow.summary).toContain(a);
    expect((await h.t.service.suture.store.actionsFor(b)).filter((x) => x.executed_at !== null)).toEqual([]);
    const bAudit = await h.t.service.suture.store.auditFor(b);
    const waited = bAudit.filter((e) => e.kind === "workload_settling");
    expect(waited.length, bAudit.map((e) => `${e.kind}: ${e.summary}`).join("\n")).toBeGreaterThan(0);
    expect(waited[0]!.summary).toContain(`incident ${a}'s rollout_undo is settling`);
    // And B's verdict came only after A's verification
    const verdicts = bAudit.filter((e) => e.kind === "policy_verdict" || e.kind === "reperceive");
    for (const v of verdicts) expect(v.at.getTime()).toBeGreaterThanOrEqual(verified);
    const state = (await h.t.service.suture.graph.getState({ configurable: { thread_id: b } })).values as IncidentStateValue;
    expect(state.timeline.map((e) => e.message).join("\n")).toContain(`incident ${a} ran rollout_undo on settle-0/api`);
  }, 180_000);
});
