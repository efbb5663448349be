import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../store/database.js";
import { migrate } from "../../store/migrate.js";
import type { IncidentStateValue } from "../../graphs/state.js";
import { SharedWorld } from "../../environments/shared-world.js";
import { advanceIncident, type RunOptions } from "../../app/advance.js";
import { ResourceLocks } from "../../store/locks.js";
import { AlertSchema } from "../../domain/alerts/alert.js";
import type { RunningService } from "../../interfaces/service.js";
import { testBackends } from "../helpers/backends.js";
import { alertmanagerBody, badRolloutWorld, post, waitFor } from "../helpers/fleet.js";
import { startTestService, type TestService } from "../helpers/service.js";

describe.each(testBackends())("workload locks, on $name", (backend) => {
  let db: Database;

  beforeAll(async () => {
    db = await backend.open();
    await migrate(db);
  });

  afterAll(async () => {
    await db.close();
  });

  it("lets the holder take its own lock again at once while another incident waits for it", async () => {
    // Given incident A holds the workload's lock and incident B is waiting for it (up to 10 s)
    const locks = new ResourceLocks(db, "test-worker");
    expect(await locks.acquire("shop/checkout", "inc-a", 0)).toMatchObject({ acquired: true });
    const waiting = locks.acquire("shop/checkout", "inc-b", 10_000);
    await new Promise((resolve) => setTimeout(resolve, 200));
    // When A takes the lock again (act re-acquires what policy-check reserved)
    const started = Date.now();
    const again = await locks.acquire("shop/checkout", "inc-a", 10_000);
    // Then it gets it at once, not after B's wait runs out
    expect(again.acquired).toBe(true);
    expect(Date.now() - started).toBeLessThan(500);
    // And B gets the lock as soon as A releases it, told whom it waited for
    await locks.releaseIncident("inc-a");
    const b = await waiting;
    expect(b).toMatchObject({ acquired: true, waitedFor: "inc-a" });
    await locks.releaseAll();
  });
});

describe.each(testBackends())("two incidents on one workload with two worker slots, on $name", (backend) => {
  let t: TestService | undefined;

  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it("acts for the first at once and re-perceives the second, which closes because the workload is healthy again", async () => {
    // Given a worker with two slots, a world whose api has a bad rollout, and a policy that waits up to 20 s for a busy workload
    t = await startTestService(backend, {
      worlds: [badRolloutWorld("alpha", "alpha")],
      files: { "policy.yaml": "resourceLock:\n  whenBusy: wait\n  waitSeconds: 20\n" },
      env: { SUTURE_POLICY: "{dir}/policy.yaml" },
      worker: { concurrency: 2, expiryIntervalMs: 0 },
    });
    const s = t.service;
    // When two different alerts (two fingerprints) fire for the same workload at once
    const [first, second] = await Promise.all(
      ["KubePodNotReady", "KubeDeploymentReplicasMismatch"].map((alertname) => post(`${s.url!}/v1/alerts/alertmanager`, alertmanagerBody({ alertname, service: "api", namespace: "alpha" }))),
    );
    const ids = [first!, second!].map((r) => (r.body["alerts"] as Array<{ incidentId: string }>)[0]!.incidentId);
    expect(new Set(ids).size).toBe(2);
    await waitFor(
      async () => (await Promise.all(ids.map(async (id) => (await s.suture.store.getIncident(id)).status))).every((st) => ["resolved", "escalated", "closed_no_action"].includes(st)),
      60_000,
      "both incidents to finish",
    );

    // Then exactly one remediation ran on the workload, within a second of being granted
    const actions = (await Promise.all(ids.map((id) => s.suture.store.actionsFor(id)))).flat();
    const executed = actions.filter((a) => a.kind === "remediation" && a.executed_at !== null);
    expect(executed.map((a) => a.tool)).toEqual(["rollout_undo"]);
    const fix = executed[0]!;
    expect(fix.executed_at!.getTime() - fix.created_at.getTime()).toBeLessThan(1000);
    const fixer = fix.incident_id;
    const other = ids.find((id) => id !== fixer)!;
    expect((await s.suture.store.getIncident(fixer)).status).toBe("resolved");

    // And the other incident perceived the workload again after the fix and closed without action, naming the fixer
    const closed = await s.suture.store.getIncident(other);
    expect(closed.status, closed.summary ?? "").toBe("closed_no_action");
    expect(closed.summary).toContain(fixer);
    const state = (await s.suture.graph.getState({ configurable: { thread_id: other } })).values as IncidentStateValue;
    expect(state.context?.actionWatermark ?? 0).toBeGreaterThanOrEqual(fix.id);
    expect(actions.filter((a) => a.incident_id === other && a.status !== "cancelled")).toEqual([]);
  }, 120_000);
});

describe.each(testBackends())("an incident whose workload another incident changed after it looked, on $name", (backend) => {
  let t: TestService | undefined;

  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  /** A server (no worker) with one bad-rollout world, and a way to open incidents on its api and run them step by step here. */
  async function setUp(): Promise<{ s: RunningService; open(alertname: string): Promise<string>; run(id: string, options?: RunOptions): Promise<unknown>; resume(id: string): Promise<unknown> }> {
    t = await startTestService(backend, { worlds: [badRolloutWorld("alpha", "alpha")] });
    const s = t.service;
    const world = async (id: string): Promise<SharedWorld> => new SharedWorld(s.suture.db, (await s.suture.store.getIncident(id)).environment_id ?? "").open();
    return {
      s,
      async open(alertname) {
        const res = await post(`${s.url!}/v1/alerts/alertmanager`, alertmanagerBody({ alertname, service: "api", namespace: "alpha" }));
        return (res.body["alerts"] as Array<{ incidentId: string }>)[0]!.incidentId;
      },
      async run(id, options = {}) {
        const row = await s.suture.db.pool.query<{ normalized: unknown }>("SELECT normalized FROM alerts WHERE incident_id = $1 ORDER BY id LIMIT 1", [id]);
        return advanceIncident(s.suture, id, { ...options, env: await world(id), alert: AlertSchema.parse(row.rows[0]!.normalized) });
      },
      async resume(id) {
        return advanceIncident(s.suture, id, { env: await world(id) });
      },
    };
  }

  it("perceives again at policy-check when another incident fixed the workload after its evidence was gathered, then closes", async () => {
    // Given incident B diagnosed a bad rollout and stopped before policy-check, and incident A then fixed the workload
    const h = await setUp();
    const a = await h.open("KubePodNotReady");
    const b = await h.open("KubeDeploymentReplicasMismatch");
    await h.run(b, { interruptBefore: ["policy-check"] });
    await h.run(a);
    expect((await h.s.suture.store.getIncident(a)).status).toBe("resolved");
    // When B continues
    await h.resume(b);
    // Then policy-check sends it back to perceive instead of granting, and it closes without action, naming A
    const state = (await h.s.suture.graph.getState({ configurable: { thread_id: b } })).values as IncidentStateValue;
    const nodes = state.timeline.map((e) => e.node);
    expect(nodes.slice(nodes.indexOf("policy-check"))).toEqual(["policy-check", "perceive", "diagnose"]);
    expect(state.timeline.find((e) => e.node === "policy-check")?.message).toContain(`incident ${a} ran rollout_undo on alpha/api`);
    const closed = await h.s.suture.store.getIncident(b);
    expect(closed.status).toBe("closed_no_action");
    expect(closed.summary).toContain(a);
    expect(await h.s.suture.store.actionsFor(b)).toEqual([]);
  }, 60_000);

  it("perceives again when another incident's rollback was still settling while it gathered its evidence, and never undoes that rollback", async () => {
    // Given incident A rolled the bad rollout back and holds the workload while its rollback settles (before verify)
    const h = await setUp();
    const a = await h.open("KubePodNotReady");
    const b = await h.open("KubeDeploymentReplicasMismatch");
    await h.run(a, { interruptBefore: ["verify"] });
    expect(await h.s.suture.locks.acquire("alpha/api", a, 0)).toMatchObject({ acquired: true });
    // When B perceives the workload mid-rollback, and A's verification finishes while B waits for the workload
    const bRun = h.run(b);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    await h.resume(a);
    await bRun;
    expect((await h.s.suture.store.getIncident(a)).status).toBe("resolved");
    // Then B looked again after A's rollback settled and closed without action, naming A
    const state = (await h.s.suture.graph.getState({ configurable: { thread_id: b } })).values as IncidentStateValue;
    const closed = await h.s.suture.store.getIncident(b);
    const story = state.timeline.map((e) => `${e.node}: ${e.message}`).join("\n");
    expect(closed.status, story).toBe("closed_no_action");
    expect(closed.summary).toContain(a);
    expect(story).toContain(`incident ${a} ran rollout_undo on alpha/api (succeeded, recovered), which was still under way when this incident gathered its evidence`);
    // And it executed nothing: rolling back "again" would have restored the bad revision
    expect((await h.s.suture.store.actionsFor(b)).filter((x) => x.status !== "cancelled")).toEqual([]);
  }, 60_000);

  it("looks again instead of escalating when its evidence, gathered after another incident's rollback rolled out but before that rollback was verified, explains nothing", async () => {
    // Given incident A rolled the bad rollout back, the rollback has rolled out for a minute, and A holds the workload before verifying it
    const h = await setUp();
    const a = await h.open("KubePodNotReady");
    const b = await h.open("KubeDeploymentReplicasMismatch");
    await h.run(a, { interruptBefore: ["verify"] });
    const world = await new SharedWorld(h.s.suture.db, (await h.s.suture.store.getIncident(a)).environment_id ?? "").open();
    await world.clock.sleep(60_000);
    expect(await h.s.suture.locks.acquire("alpha/api", a, 0)).toMatchObject({ acquired: true });
    // When B gathers its evidence now (no rule explains a rolled-back workload whose fix is unverified), and A's verification finishes while B waits
    const bRun = h.run(b);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    await h.resume(a);
    await bRun;
    expect((await h.s.suture.store.getIncident(a)).status).toBe("resolved");
    // Then B did not escalate on that evidence: it waited for A, perceived again and closed without action, naming A
    const state = (await h.s.suture.graph.getState({ configurable: { thread_id: b } })).values as IncidentStateValue;
    const story = state.timeline.map((e) => `${e.node}: ${e.message}`).join("\n");
    expect(state.timeline.map((e) => e.node)).toEqual(["perceive", "diagnose", "perceive", "diagnose"]);
    expect(state.timeline[1]?.message, story).toContain(
      `not concluded: incident ${a} ran rollout_undo on alpha/api (succeeded, recovered), which was still under way when this incident gathered its evidence; perceiving again before concluding`,
    );
    const closed = await h.s.suture.store.getIncident(b);
    expect(closed.status, story).toBe("closed_no_action");
    expect(closed.summary).toContain(a);
    expect((await h.s.suture.store.actionsFor(b)).filter((x) => x.status !== "cancelled")).toEqual([]);
  }, 60_000);

  it("waits for an incident that holds the workload before judging its own proposal, then looks again", async () => {
    // Given incident B diagnosed the bad rollout and stopped before policy-check
    const h = await setUp();
    const a = await h.open("KubePodNotReady");
    const b = await h.open("KubeDeploymentReplicasMismatch");
    await h.run(b, { interruptBefore: ["policy-check"] });
    const proposal = ((await h.s.suture.graph.getState({ configurable: { thread_id: b } })).values as IncidentStateValue).diagnosis?.proposal?.call;
    expect(proposal?.tool).toBe("rollout_undo");
    // And incident A holds the workload and has been granted the same rollback, not yet executed
    expect(await h.s.suture.locks.acquire("alpha/api", a, 0)).toMatchObject({ acquired: true });
    const grantKey = `${a}:attempt-1:rollout_undo`;
    const granted = await h.s.suture.store.registerAction({
      incidentId: a,
      attempt: 1,
      kind: "remediation",
      tool: "rollout_undo",
      params: proposal!.params,
      risk: "medium",
      actionClass: "rollback",
      targetService: "api",
      idempotencyKey: grantKey,
      namespace: "alpha",
      envTime: Date.now(),
    });
    // When B continues while A still holds the workload
    const continued = h.resume(b);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    // And A then executes its rollback, verify judges it recovered, and A's run ends
    const world = await new SharedWorld(h.s.suture.db, (await h.s.suture.store.getIncident(a)).environment_id ?? "").open();
    const rollback = h.s.suture.tools.get("rollout_undo");
    await rollback.run(proposal!.params, world, grantKey);
    await world.clock.sleep(rollback.settleSeconds * 1000);
    await h.s.suture.store.markExecuting(granted.id);
    await h.s.suture.store.markFinished(granted.id, "succeeded");
    await h.s.suture.store.setAfterSignals(granted.id, { at: 0, signals: [] }, "recovered");
    await h.s.suture.locks.releaseIncident(a);
    await continued;
    // Then B made no verdict while A held the workload: it waited, saw A's rollback, perceived again and closed without action
    const state = (await h.s.suture.graph.getState({ configurable: { thread_id: b } })).values as IncidentStateValue;
    const afterDiagnosis = state.timeline.map((e) => e.node).slice(state.timeline.findIndex((e) => e.node === "policy-check"));
    expect(afterDiagnosis).toEqual(["policy-check", "perceive", "diagnose"]);
    const closed = await h.s.suture.store.getIncident(b);
    expect(closed.status).toBe("closed_no_action");
    expect(closed.summary).toContain(a);
  }, 60_000);

  it("cancels its grant at act when another incident acted on the workload after it looked (a restart lost its lock), and acts on fresh evidence", async () => {
    // Given incident B was granted rollout_undo and stopped before act (its run ended, so its lock is gone)
    const h = await setUp();
    const b = await h.open("KubePodNotReady");
    await h.run(b, { interruptBefore: ["act"] });
    expect((await h.s.suture.store.actionsFor(b)).map((x) => [x.tool, x.status])).toEqual([["rollout_undo", "registered"]]);
    // And meanwhile incident C restarted the workload's pods
    const c = await h.open("KubeDeploymentReplicasMismatch");
    const restart = await h.s.suture.store.registerAction({
      incidentId: c,
      attempt: 1,
      kind: "remediation",
      tool: "restart_pods",
      params: { service: "api" },
      risk: "low",
      actionClass: "restart",
      targetService: "api",
      idempotencyKey: `${c}:restart`,
      namespace: "alpha",
      envTime: Date.now(),
    });
    await h.s.suture.store.markExecuting(restart.id);
    await h.s.suture.store.markFinished(restart.id, "succeeded");
    // When B continues
    await h.resume(b);
    // Then act did not execute on the old diagnosis: it cancelled the grant and perceived again
    const state = (await h.s.suture.graph.getState({ configurable: { thread_id: b } })).values as IncidentStateValue;
    const acts = state.timeline.filter((e) => e.node === "act").map((e) => e.message);
    expect(acts[0]).toMatch(new RegExp(`rollout_undo not executed \\(grant cancelled\\): incident ${c} ran restart_pods on alpha/api`));
    expect(state.timeline.map((e) => e.node).slice(state.timeline.findIndex((e) => e.node === "act"))).toEqual(
      expect.arrayContaining(["act", "perceive", "diagnose", "policy-check", "act", "verify"]),
    );
    // And on fresh evidence (the rollout is still bad) it acted once, under the same grant key, and resolved
    const actions = await h.s.suture.store.actionsFor(b);
    expect(actions.map((x) => [x.tool, x.status])).toEqual([["rollout_undo", "succeeded"]]);
    expect(state.context?.actionWatermark ?? 0).toBeGreaterThanOrEqual(restart.id);
    expect((await h.s.suture.store.getIncident(b)).status).toBe("resolved");
  }, 60_000);
});
