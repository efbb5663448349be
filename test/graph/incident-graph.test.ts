import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runScenario } from "../../app/scenario-run.js";
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
    const actions = await t.suture.store.actionsFor(run.incidentId);
    expect(actions).toHaveLength(1);
    expect(actions[0]).toMatchObject({
      status: "succeeded",
      tool: "rollout_undo",
      params: { service: "checkout", toRevision: 2 },
      rollback_call: { tool: "rollout_undo", params: { service: "checkout", toRevision: 3 } },
    });
    expect(actions[0]?.after_signals).not.toBeNull();
    // And the audit log explains each step, the incident row holds the brief
    const kinds = (await t.suture.store.auditFor(run.incidentId)).map((a) => a.kind);
    expect(kinds).toEqual(["diagnosis", "policy_verdict", "action", "verification", "resolved"]);
    const row = await t.suture.store.getIncident(run.incidentId);
    expect(row.status).toBe("resolved");
    expect(row.brief).toMatchObject({ outcome: { status: "resolved" }, actions: [{ verdict: "recovered" }] });
    // And the brief scores the decision's reliability with the verified recovery joined in
    expect(row.brief).toMatchObject({ reliability: { outcome: 1, agreement: 1 } });
    expect((row.brief as { reliability: { score: number; summary: string } }).reliability.score).toBeGreaterThan(0.5);
    expect((row.brief as { reliability: { summary: string } }).reliability.summary).toMatch(/^reliability 0\.\d\d \(belief .*verified outcome 1\)$/);
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
    expect(run.env.operationsApplied().map((o) => o.op)).toEqual(["rolloutUndo", "rolloutUndo"]);
    const actions = await t.suture.store.actionsFor(run.incidentId);
    expect(actions.map((a) => a.params["toRevision"])).toEqual([2, 3]);
    expect(actions.map((a) => [a.kind, a.status])).toEqual([
      ["remediation", "succeeded"],
      ["rollback", "succeeded"],
    ]);
    expect(actions[1]?.rollback_of).toBe(actions[0]?.id);
    expect(run.state.outcome).toMatchObject({ status: "escalated" });
    expect(t.notifier.sent.some((n) => n.incidentId === run.incidentId && n.status === "escalated")).toBe(true);
    // And the decision that made things worse scores low: its verified outcome counts 0
    const row = await t.suture.store.getIncident(run.incidentId);
    expect(row.brief).toMatchObject({ reliability: { outcome: 0 } });
    expect((row.brief as { reliability: { score: number } }).reliability.score).toBeLessThan(0.5);
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

  it("pauses a high-risk proposal for a human, then acts on approval or escalates on rejection", async () => {
    const { decide } = await import("../../app/approvals.js");
    // Given a fix that needs a human
    const paused = await runScenario(t.suture, await shippedScenario("network-policy-blocks-callers"));
    // Then the graph pauses with the full request, nothing executed, status awaiting approval
    expect(paused.awaitingApproval).toMatchObject({ call: { tool: "delete_network_policy" }, risk: "high" });
    expect(paused.awaitingApproval?.rollback).toContain("restore_network_policy");
    expect(paused.awaitingApproval?.ifNobodyAnswers).toMatch(/expires at .* escalates/);
    expect(paused.env.operationsApplied()).toEqual([]);
    expect((await t.suture.store.getIncident(paused.incidentId)).status).toBe("awaiting_approval");
    // When approved, the graph resumes from the checkpoint, acts once, verifies and resolves
    const approved = await decide(t.suture, paused.incidentId, { decision: "approved", approver: "alice", note: "checked" });
    expect(approved.state.outcome?.status).toBe("resolved");
    expect(approved.env.operationsApplied().map((o) => o.op)).toEqual(["deleteNetworkPolicy"]);
    expect(approved.state.timeline.filter((e) => e.node === "perceive")).toHaveLength(1);
    const approvals = await t.suture.store.approvalsFor(paused.incidentId);
    expect(approvals).toMatchObject([{ decision: "approved", approver: "alice", note: "checked" }]);
    // And a second approval of the same request is refused
    await expect(decide(t.suture, paused.incidentId, { decision: "approved", approver: "bob" })).rejects.toThrow(/already approved by alice/);

    // Given another pause, when rejected, then it escalates with the reason and acts on nothing
    const again = await runScenario(t.suture, await shippedScenario("network-policy-blocks-callers"));
    const rejected = await decide(t.suture, again.incidentId, { decision: "rejected", approver: "bob", note: "the policy is intended" });
    expect(rejected.state.outcome?.status).toBe("escalated");
    expect(rejected.state.outcome?.reason).toContain("rejected by bob: the policy is intended");
    expect(rejected.env.operationsApplied()).toEqual([]);
  });

  it("rejects bad approval commands with one line and changes nothing", async () => {
    const { decide } = await import("../../app/approvals.js");
    const paused = await runScenario(t.suture, await shippedScenario("network-policy-blocks-callers"));
    await expect(decide(t.suture, "inc-nope", { decision: "approved", approver: "a" })).rejects.toThrow(/^unknown incident "inc-nope"/);
    await expect(decide(t.suture, paused.incidentId, { decision: "approved", approver: "a", set: ["replicas=3"] })).rejects.toThrow(
      /--set replicas: delete_network_policy has no parameter "replicas"/,
    );
    await expect(decide(t.suture, paused.incidentId, { decision: "approved", approver: "a", set: ["policy="] })).rejects.toThrow(/--set: delete_network_policy policy: /);
    const resolved = await runScenario(t.suture, await shippedScenario("bad-rollout-missing-image"));
    await expect(decide(t.suture, resolved.incidentId, { decision: "approved", approver: "a" })).rejects.toThrow(/is not awaiting approval \(status: resolved\)/);
    // Nothing changed: still paused, no decision recorded
    expect((await t.suture.store.getIncident(paused.incidentId)).status).toBe("awaiting_approval");
    expect((await t.suture.store.latestApproval(paused.incidentId))?.decision).toBeNull();
    // An expired request cannot be approved; tick escalates it
    await t.suture.db.pool.query("UPDATE approvals SET expires_at = now() - interval '1 minute' WHERE incident_id = $1", [paused.incidentId]);
    await expect(decide(t.suture, paused.incidentId, { decision: "approved", approver: "a" })).rejects.toThrow(/expired at .*`suture tick` escalates it/);
    const { expireApprovals } = await import("../../app/approvals.js");
    expect(await expireApprovals(t.suture)).toContain(paused.incidentId);
    expect((await t.suture.store.getIncident(paused.incidentId)).status).toBe("escalated");
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
    // Newest first: done, then the node that ran after each checkpoint (on a simulated clock verify's
    // looks at the settle window run in one step; on the wall clock each look is a step after a durable wait).
    expect(steps.reverse()).toEqual(["__start__", "perceive", "diagnose", "policy-check", "act", "verify", undefined]);
  });
});
