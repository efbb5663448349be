import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StateSnapshot } from "@langchain/langgraph";
import { migrate } from "../../store/migrate.js";
import { MemoryNotifier } from "../../app/notify.js";
import { DEFAULT_POLICY, PolicyEngine } from "../../policy/policy.js";
import { runScenario } from "../../app/scenario-run.js";
import { exportIncident, importIncident } from "../../app/export.js";
import { replayIncident } from "../../app/replay.js";
import { wireSuture, type Suture } from "../../app/suture.js";
import type { IncidentStateValue } from "../../graphs/state.js";
import { testBackends } from "../helpers/backends.js";
import { openTestSuture, shippedScenario, type TestSuture } from "../helpers/suture.js";

async function history(suture: Suture, id: string): Promise<StateSnapshot[]> {
  const out: StateSnapshot[] = [];
  for await (const s of suture.graph.getStateHistory({ configurable: { thread_id: id } })) out.push(s);
  return out.reverse();
}

const checkpointOf = (s: StateSnapshot | undefined): string => String(s?.config.configurable?.["checkpoint_id"] ?? "");

/** The decisions of a run, without ids and wall-clock times. */
function decisions(state: IncidentStateValue): unknown {
  return {
    diagnoses: state.diagnoses.map((d) => ({ decision: d.decision, confidence: d.confidence, hypotheses: d.hypotheses.map((h) => [h.id, h.confidence]), proposal: d.proposal?.call ?? null })),
    verdict: state.verdict && { outcome: state.verdict.outcome, call: state.verdict.call },
    attempts: state.attempts.map((a) => ({ call: a.call, verdict: a.verdict, rolledBack: a.rolledBack, before: a.before, after: a.after })),
    outcome: state.outcome && { status: state.outcome.status, reason: state.outcome.reason, at: state.outcome.at },
  };
}

describe.each(testBackends())("replay and fork on $name", (backend) => {
  let t: TestSuture;

  beforeAll(async () => {
    t = await openTestSuture(backend);
  });
  afterAll(async () => {
    await t.suture.close();
  });

  it("replays a resolved incident before policy-check with a stricter policy: a different path, the original unchanged", async () => {
    // Given an incident resolved automatically
    const original = await runScenario(t.suture, await shippedScenario("bad-rollout-missing-image"));
    const before = await history(t.suture, original.incidentId);
    const beforePolicy = before.find((s) => s.next[0] === "policy-check");
    const actionsBefore = await t.suture.store.actionsFor(original.incidentId);
    // When it is replayed from the checkpoint before policy-check with medium risk needing approval
    const strict = { ...t.suture, policy: new PolicyEngine({ ...DEFAULT_POLICY, approval: { ...DEFAULT_POLICY.approval, requiredFor: ["medium", "high"] } }, t.suture.tools) };
    const replay = await replayIncident(strict, original.incidentId, { from: checkpointOf(beforePolicy) });
    // Then the replay pauses for approval instead of acting, and links back to its origin
    expect(replay.awaitingApproval?.call.tool).toBe("rollout_undo");
    expect(replay.env.operationsApplied()).toEqual([]);
    const row = await t.suture.store.getIncident(replay.incidentId);
    expect(row).toMatchObject({ forked_from: original.incidentId, forked_at_checkpoint: checkpointOf(beforePolicy), status: "awaiting_approval" });
    // And the original is exactly as it was
    expect((await history(t.suture, original.incidentId)).map(checkpointOf)).toEqual(before.map(checkpointOf));
    expect(await t.suture.store.actionsFor(original.incidentId)).toEqual(actionsBefore);
    expect((await t.suture.store.getIncident(original.incidentId)).status).toBe("resolved");
  });

  it("stops a default (dry-run) replay before any action", async () => {
    const original = await runScenario(t.suture, await shippedScenario("dependency-scaled-to-zero"));
    const snapshots = await history(t.suture, original.incidentId);
    const replay = await replayIncident(t.suture, original.incidentId, { from: checkpointOf(snapshots.find((s) => s.next[0] === "policy-check")) });
    expect(replay.env.operationsApplied()).toEqual([]);
    expect(await t.suture.store.actionsFor(replay.incidentId)).toEqual([]);
    expect((await t.suture.store.getIncident(replay.incidentId)).summary).toMatch(/dry run stopped before act: would execute scale_deployment/);
  });

  it("reproduces the same decisions when replayed from the first checkpoint with the same policy", async () => {
    const original = await runScenario(t.suture, await shippedScenario("memory-leak-old-revision"));
    const first = (await history(t.suture, original.incidentId))[0];
    const replay = await replayIncident(t.suture, original.incidentId, { from: checkpointOf(first), live: true });
    expect(decisions(replay.state)).toEqual(decisions(original.state));
    expect(replay.env.operationsApplied().map((o) => [o.op, o.args, o.at])).toEqual(original.env.operationsApplied().map((o) => [o.op, o.args, o.at]));
  });

  it("exports an incident that another database imports and replays to the same decisions", async () => {
    const original = await runScenario(t.suture, await shippedScenario("rollback-blocked-by-schema-migration"));
    const exported = JSON.parse(JSON.stringify(await exportIncident(t.suture, original.incidentId))) as unknown;
    const db = await backend.open();
    try {
      await migrate(db);
      const elsewhere = await wireSuture(db, { notifier: new MemoryNotifier() });
      const id = await importIncident(elsewhere, exported, "export.json");
      expect(id).toBe(original.incidentId);
      const snapshots = await history(elsewhere, id);
      expect(snapshots.length).toBeGreaterThanOrEqual(7);
      const replay = await replayIncident(elsewhere, id, { from: checkpointOf(snapshots.find((s) => s.next[0] === "policy-check")), live: true });
      expect(decisions(replay.state)).toEqual(decisions(original.state));
      await expect(importIncident(elsewhere, { format: "nope" }, "bad.json")).rejects.toThrow(/^bad\.json: format: /);
    } finally {
      await db.close();
    }
  });

  it("names a checkpoint it cannot find", async () => {
    const original = await runScenario(t.suture, await shippedScenario("bad-rollout-missing-image"));
    await expect(replayIncident(t.suture, original.incidentId, { from: "ffff-nope" })).rejects.toThrow(/has no checkpoint "ffff-nope"; list them with `suture history/);
  });
});
