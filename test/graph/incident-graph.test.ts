import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runScenario } from "../../runtime/incident-runner.js";
import { testBackends } from "../helpers/backends.js";
import { openTestSuture, shippedScenario, type TestSuture } from "../helpers/suture.js";

describe.each(testBackends())("incident graph on $name", (backend) => {
  let t: TestSuture;

  beforeAll(async () => {
    t = await openTestSuture(backend);
  });
  afterAll(async () => {
    await t.suture.close();
  });

  it("resolves a bad rollout by rolling back once, verified, with every decision audited", async () => {
    // Given a rollout whose image does not exist
    const scenario = await shippedScenario("bad-rollout-missing-image");
    // When the alert runs through the graph
    const run = await runScenario(t.suture, scenario);
    // Then the incident is resolved by exactly one rollout_undo to the previous revision
    expect(run.state.outcome?.status).toBe("resolved");
    const ops = run.env.operationsApplied();
    expect(ops.map((o) => o.op)).toEqual(["rolloutUndo"]);
    expect(ops[0]?.args).toEqual({ service: "checkout", toRevision: 2 });
    const actions = await t.suture.store.actionsFor(run.incidentId);
    expect(actions).toHaveLength(1);
    expect(actions[0]).toMatchObject({ status: "succeeded", tool: "rollout_undo", rollback_call: { tool: "rollout_undo", params: { service: "checkout", toRevision: 3 } } });
    expect(actions[0]?.after_signals).not.toBeNull();
    // And the audit log explains each step, the incident row holds the brief
    const kinds = (await t.suture.store.auditFor(run.incidentId)).map((a) => a.kind);
    expect(kinds).toEqual(["diagnosis", "policy_verdict", "action", "verification", "resolved"]);
    const row = await t.suture.store.getIncident(run.incidentId);
    expect(row.status).toBe("resolved");
    expect(row.brief).toMatchObject({ outcome: { status: "resolved" }, actions: [{ verdict: "recovered" }] });
  });

  it("replans after a remediation that does not fix it and never repeats a strategy", async () => {
    // Given a memory leak in the current revision
    const run = await runScenario(t.suture, await shippedScenario("memory-leak-old-revision"));
    // Then the limit raise is judged not recovered, and the second, different action resolves it
    expect(run.state.attempts.map((a) => [a.call.tool, a.verdict])).toEqual([
      ["set_memory_limit", "not_recovered"],
      ["rollout_undo", "recovered"],
    ]);
    expect(new Set(run.state.attempts.map((a) => a.strategy)).size).toBe(2);
    expect(run.state.diagnoses).toHaveLength(2);
    expect(run.state.outcome?.status).toBe("resolved");
  });

  it("rolls back an action that made things worse, then escalates", async () => {
    // Given a bad release whose previous revision cannot read the migrated schema
    const run = await runScenario(t.suture, await shippedScenario("rollback-blocked-by-schema-migration"));
    // Then verify sees it worse, the registered rollback runs, and a human gets the incident
    expect(run.state.attempts[0]).toMatchObject({ verdict: "worse", rolledBack: true });
    expect(run.env.operationsApplied().map((o) => o.args["toRevision"])).toEqual([2, 3]);
    const actions = await t.suture.store.actionsFor(run.incidentId);
    expect(actions.map((a) => [a.kind, a.status])).toEqual([
      ["remediation", "succeeded"],
      ["rollback", "succeeded"],
    ]);
    expect(actions[1]?.rollback_of).toBe(actions[0]?.id);
    expect(run.state.outcome).toMatchObject({ status: "escalated" });
    expect(t.notifier.sent.some((n) => n.incidentId === run.incidentId && n.status === "escalated")).toBe(true);
  });

  it("escalates a security fault without acting and keeps the secret out of the brief", async () => {
    const run = await runScenario(t.suture, await shippedScenario("credential-leak-in-logs"));
    expect(run.state.outcome?.status).toBe("escalated");
    expect(run.env.operationsApplied()).toEqual([]);
    expect(await t.suture.store.actionsFor(run.incidentId)).toEqual([]);
    const stored = JSON.stringify(await t.suture.store.getIncident(run.incidentId));
    expect(stored).toContain("[REDACTED]");
    expect(stored).not.toContain("Xk29fPq7LmZ2wQ");
  });

  it("closes a flapping alert on a healthy service without action or notification", async () => {
    const run = await runScenario(t.suture, await shippedScenario("latency-flapping-threshold"));
    expect(run.state.outcome?.status).toBe("closed_no_action");
    expect(run.env.operationsApplied()).toEqual([]);
    expect(t.notifier.sent.some((n) => n.incidentId === run.incidentId)).toBe(false);
  });

  it("escalates a high-risk proposal with the proposed call in the brief instead of running it", async () => {
    const run = await runScenario(t.suture, await shippedScenario("network-policy-blocks-callers"));
    expect(run.state.verdict?.outcome).toBe("needs_approval");
    expect(run.env.operationsApplied()).toEqual([]);
    const row = await t.suture.store.getIncident(run.incidentId);
    const pending = (row.brief as { pending?: { verdict: string; call: string } }).pending;
    expect(pending?.verdict).toBe("needs_approval");
    expect(pending?.call).toContain("delete_network_policy");
  });

  it("escalates when no evidence explains the alert instead of guessing", async () => {
    const run = await runScenario(t.suture, await shippedScenario("unexplained-error-rate"));
    expect(run.state.outcome?.status).toBe("escalated");
    expect(run.state.diagnosis?.hypotheses).toEqual([]);
    expect(run.env.operationsApplied()).toEqual([]);
  });

  it("keeps one checkpoint per node step, replayable from history", async () => {
    const run = await runScenario(t.suture, await shippedScenario("bad-rollout-missing-image"));
    const steps: Array<string | undefined> = [];
    for await (const snapshot of t.suture.graph.getStateHistory({ configurable: { thread_id: run.incidentId } })) {
      steps.push(snapshot.next[0]);
    }
    // Newest first: done, then the node that ran after each checkpoint.
    expect(steps.reverse()).toEqual(["__start__", "perceive", "diagnose", "policy-check", "act", "verify", undefined]);
  });
});
