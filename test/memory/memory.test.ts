import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrate } from "../../store/migrate.js";
import type { Embedder } from "../../memory/embeddings.js";
import { EmbedderMismatchError, IncidentMemory } from "../../memory/incident-memory.js";
import { runScenario } from "../../app/scenario-run.js";
import { ApiFaults } from "../../environments/cluster-api/faults.js";
import { testBackends } from "../helpers/backends.js";
import { syntheticKubePrometheusAlert } from "../helpers/kube-prometheus-alerts.js";
import { openTestSuture, shippedScenario, type TestSuture } from "../helpers/suture.js";

const RUNBOOKS = path.resolve(import.meta.dirname, "..", "..", "..", "shared", "data", "runbooks");

describe.each(testBackends())("incident memory on $name", (backend) => {
  let t: TestSuture;

  beforeAll(async () => {
    t = await openTestSuture(backend);
  });
  afterAll(async () => {
    await t.suture.close();
  });

  it("resolves a recurring fault with fewer steps and more confidence, and says memory was the reason", async () => {
    // Given a memory leak that took two attempts the first time
    const first = await runScenario(t.suture, await shippedScenario("memory-leak-old-revision"));
    expect(first.state.attempts).toHaveLength(2);
    const firstConfidence = first.state.diagnoses[first.state.diagnoses.length - 1]?.confidence ?? 0;
    // When the same fault recurs
    const second = await runScenario(t.suture, await shippedScenario("memory-leak-recurrence"));
    // Then it is resolved in one attempt, by the remediation that fixed it last time, more confidently
    expect(second.state.outcome?.status).toBe("resolved");
    expect(second.state.attempts.map((a) => a.call.tool)).toEqual(["rollout_undo"]);
    expect(second.state.diagnoses[0]?.confidence).toBeGreaterThan(firstConfidence);
    const diagnoseLine = second.state.timeline.find((e) => e.node === "diagnose")?.message ?? "";
    expect(diagnoseLine).toContain(`rollout_undo +`);
    expect(diagnoseLine).toContain(first.incidentId);
    // And the brief shows which past incident moved which remediation
    const brief = (await t.suture.store.getIncident(second.incidentId)).brief as { memory: { recalled: Array<{ incidentId: string }>; adjustments: Array<{ tool: string; delta: number }> } };
    expect(brief.memory.recalled[0]?.incidentId).toBe(first.incidentId);
    expect(brief.memory.adjustments.find((a) => a.tool.startsWith("rollout_undo"))?.delta).toBeGreaterThan(0.1);
  });

  it("diagnoses a recurring draining-backlog fault with more confidence and no more steps, having learned that the skip worked", async () => {
    // Given a poison pill that stalled a partition for 25 minutes: after the skip, ~30k records take ~12 minutes to drain,
    // far past the 3-minute settle interval
    const shipped = await shippedScenario("kafka-poison-pill");
    const draining = (seed: number): typeof shipped => ({
      ...shipped,
      environment: {
        ...shipped.environment,
        seed,
        services: (shipped.environment.services ?? []).map((svc) => (svc.kafka !== undefined ? { ...svc, kafka: { ...svc.kafka, consumerCapacityPerPartition: 60 } } : svc)),
        faults: shipped.environment.faults.map((f) => ({ ...f, atMinutes: -25 })),
      },
    });
    const steps = async (incidentId: string): Promise<number> => {
      const checkpoints: unknown[] = [];
      for await (const snapshot of t.suture.graph.getStateHistory({ configurable: { thread_id: incidentId } })) checkpoints.push(snapshot);
      return checkpoints.length;
    };
    // When it happens once
    const first = await runScenario(t.suture, draining(21));
    // Then verify watches the backlog drain past the settle deadline and calls the skip a recovery (what memory learns)
    const attempt = first.state.attempts[0]!;
    expect(first.state.outcome?.status).toBe("resolved");
    expect(attempt.verdict).toBe("recovered");
    expect(first.env.now() - attempt.executedAt).toBeGreaterThan(attempt.settleSeconds * 1000);
    // When it recurs
    const second = await runScenario(t.suture, draining(22));
    // Then memory raised the skip's confidence, and the second run took no more steps than the first
    expect(second.state.outcome?.status).toBe("resolved");
    expect(second.state.attempts.map((a) => a.call.tool)).toEqual(["skip_message_to_dlq"]);
    expect(second.state.diagnoses[0]!.confidence).toBeGreaterThan(first.state.diagnoses[0]!.confidence);
    expect(second.state.timeline.find((e) => e.node === "diagnose")?.message).toContain(`skip_message_to_dlq +`);
    expect(await steps(second.incidentId)).toBeLessThanOrEqual(await steps(first.incidentId));
  });

  it("stops choosing automatically a remediation that was rolled back on three similar incidents", async () => {
    const scenario = await shippedScenario("rollback-blocked-by-schema-migration");
    // Given three similar incidents where rolling back made things worse and was undone
    for (let i = 0; i < 3; i++) {
      const run = await runScenario(t.suture, { ...scenario, environment: { ...scenario.environment, seed: 500 + i } });
      if (i === 0) expect(run.state.attempts[0]).toMatchObject({ verdict: "worse", rolledBack: true });
    }
    const stats = await t.suture.memory.statsFor("bad-rollout", "rollout_undo");
    expect(stats.worse).toBeGreaterThanOrEqual(1);
    // When the fourth arrives
    const fourth = await runScenario(t.suture, { ...scenario, environment: { ...scenario.environment, seed: 600 } });
    // Then the rollback is not executed: memory or the demotion rule hands it to a human
    expect(fourth.env.operationsApplied()).toEqual([]);
    expect(fourth.state.outcome?.status).toBe("escalated");
    const reasons = `${fourth.state.diagnosis?.reason ?? ""} ${fourth.state.verdict?.reasons.join(" ") ?? ""} ${fourth.state.timeline.map((e) => e.message).join(" ")}`;
    expect(reasons).toMatch(/memory: rollout_undo -|demoted to approval/);
  });

  it("learns nothing about a remedy from a call that failed: an API outage does not make the right rollback look wrong", async () => {
    const memory = new IncidentMemory(t.suture.db, t.suture.memory.embedder, `failed-call-${backend.name}`);
    const suture = { ...t.suture, memory };
    const scenario = await shippedScenario("bad-rollout-missing-image");
    // Given an incident whose rollback failed because the API server answered 503 to the write
    const faults = new ApiFaults();
    faults.inject("server_error", { requests: "write" });
    const failed = await runScenario(suture, scenario, { apiFaults: faults });
    expect(failed.state.attempts.map((a) => a.status)).toEqual(["failed"]);
    // Then memory recorded no verdict on the rollback
    const outcomes = await t.suture.db.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM remediation_outcomes WHERE incident_id = $1", [failed.incidentId]);
    expect(outcomes.rows[0]!.n).toBe(0);
    expect((await memory.statsFor("bad-rollout", "rollout_undo")).attempts).toBe(0);
    // And when the same fault comes with the API healthy, the rollback is not held back by that failure
    const next = await runScenario(suture, scenario);
    expect(next.state.outcome?.status).toBe("resolved");
    expect(next.state.diagnoses[0]?.proposal?.memoryDelta ?? 0).toBeGreaterThanOrEqual(0);
  });

  it("refuses to mix vectors from another embedder until memory is re-embedded", async () => {
    const other: Embedder = { id: "other-model@384", dimensions: 384, embed: async (docs) => docs.map(() => Array.from({ length: 384 }, (_, i) => (i % 2 === 0 ? 0.05 : -0.05))) };
    const memory = new IncidentMemory(t.suture.db, other);
    await expect(memory.search("anything")).rejects.toThrow(EmbedderMismatchError);
    await expect(memory.search("anything")).rejects.toThrow(/run `suture memory re-embed`/);
    expect(await memory.reembed()).toBeGreaterThan(0);
    await expect(memory.search("anything")).resolves.toBeDefined();
    // Restore the default embedder for later suites on this database.
    await t.suture.memory.reembed();
  });

  it("keeps scopes apart: an evaluation scope recalls none of the default scope's incidents", async () => {
    const isolated = new IncidentMemory(t.suture.db, t.suture.memory.embedder, "eval-isolated");
    expect(await isolated.count()).toEqual({ incidents: 0, runbooks: 0 });
    expect((await t.suture.memory.count()).incidents).toBeGreaterThan(0);
  });
});

describe.each(testBackends())("runbook retrieval on $name", (backend) => {
  it("finds each of the 108 runbooks in the top 3 for a realistic alert of that name (offline embedder)", async () => {
    const db = await backend.open();
    try {
      await migrate(db);
      const { HashingEmbedder } = await import("../../memory/embeddings.js");
      const memory = new IncidentMemory(db, new HashingEmbedder(), "runbooks");
      const runbooks = await memory.importRunbooks(RUNBOOKS);
      expect(runbooks).toHaveLength(108);
      let hits = 0;
      const misses: string[] = [];
      for (const r of runbooks) {
        const top = await memory.runbooksFor(syntheticKubePrometheusAlert(r.name, r.file), 3);
        if (top.some((n) => n.title === r.name)) hits += 1;
        else misses.push(`${r.name} → ${top.map((n) => n.title).join(", ")}`);
      }
      const rate = hits / runbooks.length;
      console.log(`[runbook retrieval, ${backend.name}] top-3 hit rate ${(rate * 100).toFixed(1)}% (${hits}/${runbooks.length}); misses: ${misses.join("; ") || "none"}`);
      expect(rate).toBeGreaterThanOrEqual(0.95);
      // A re-import updates in place rather than duplicating
      await memory.importRunbooks(RUNBOOKS);
      expect((await memory.count()).runbooks).toBe(108);
    } finally {
      await db.close();
    }
  });
});
