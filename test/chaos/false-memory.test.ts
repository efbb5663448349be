import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { decide } from "../../app/approvals.js";
import { runScenario } from "../../app/scenario-run.js";
import { selfRecoveryPass } from "../../app/self-recovery.js";
import type { Suture } from "../../app/suture.js";
import type { Attempt } from "../../domain/model.js";
import { IncidentMemory } from "../../memory/incident-memory.js";
import { testBackends } from "../helpers/backends.js";
import { openTestSuture, shippedScenario } from "../helpers/suture.js";

/**
 * Chaos of incident memory: remembered incidents whose outcomes are false — each says that
 * rolling back a release that cannot pull its image made things worse, when the rollback is the
 * fix. Memory lowers the rollback's confidence, so Suture asks a human; the human approves and the
 * rollback is verified recovered, contradicting what those entries said. Bound stated here: the
 * false entries are quarantined within {@link DETECTION_BOUND} incidents, after which Suture
 * rolls back unattended again.
 */
const DETECTION_BOUND = 2;
const FALSE_ENTRIES = 3;

/** Remembers `n` incidents like the scenario's, each claiming its rollback was verified `worse` and rolled back. */
async function rememberFalseOutcomes(suture: Suture, n: number): Promise<string[]> {
  // The evidence of a real run (in a scope of its own, so it teaches the tested memory nothing).
  const scratch: Suture = { ...suture, memory: new IncidentMemory(suture.db, suture.memory.embedder, `scratch-${randomUUID()}`) };
  const real = await runScenario(scratch, await shippedScenario("bad-rollout-missing-image"));
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const id = await suture.store.createIncident({ id: `inc-false-memory-${i}-${randomUUID().slice(0, 8)}`, alert: real.state.alert, scenario: "chaos-false-memory", environmentId: null });
    const attempts: Attempt[] = real.state.attempts.map((a) => ({ ...a, verdict: "worse", rolledBack: true }));
    await suture.memory.remember({
      incidentId: id,
      alert: real.state.alert,
      context: real.state.context,
      outcome: { status: "escalated", reason: "rolled back: the rollback made it worse", at: real.state.outcome?.at ?? Date.now() },
      attempts,
      faultClass: "bad-rollout",
    });
    ids.push(id);
  }
  return ids;
}

describe.each(testBackends())("chaos: incident memory with false outcomes, on $name", (backend) => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
    close = undefined;
  });

  it("Given remembered incidents that falsely say the right rollback made things worse, When humans approve it and it recovers, Then those entries are quarantined within the bound, audited, and Suture acts unattended again; a human can restore one", async () => {
    const t = await openTestSuture(backend);
    close = () => t.suture.close();
    const suture = t.suture;
    const scenario = await shippedScenario("bad-rollout-missing-image");
    const falseIds = await rememberFalseOutcomes(suture, FALSE_ENTRIES);

    let detectedAfter: number | undefined;
    for (let i = 1; i <= DETECTION_BOUND + 2 && detectedAfter === undefined; i++) {
      // When an incident comes, memory holds the rollback back and a human approves it
      const run = await runScenario(suture, scenario);
      expect(run.awaitingApproval?.call.tool, run.state.outcome?.reason).toBe("rollout_undo");
      expect(run.awaitingApproval?.reasons.join()).toMatch(/confidence .* below/);
      const decided = await decide(suture, run.incidentId, { decision: "approved", approver: "oncall" });
      // Then the rollback is verified recovered: the very thing the entries denied
      expect(decided.state.outcome?.status).toBe("resolved");
      const opened = await selfRecoveryPass(suture.store);
      if (opened.some((r) => r.kind === "memory_quarantine")) detectedAfter = i;
    }

    // Then every false entry was quarantined within the bound, each audited with what contradicted it
    expect(detectedAfter).toBeDefined();
    expect(detectedAfter!).toBeLessThanOrEqual(DETECTION_BOUND);
    const quarantined = await suture.db.pool.query<{ incident_id: string }>("SELECT incident_id FROM incident_memory WHERE quarantined_at IS NOT NULL ORDER BY incident_id");
    expect(quarantined.rows.map((r) => r.incident_id)).toEqual([...falseIds].sort());
    const audits = await suture.db.pool.query<{ summary: string; detail: { metric: string; evidence: { contradicted: number; confirmed: number } } }>(
      "SELECT summary, detail FROM audit_log WHERE kind = 'self_recovery' ORDER BY id",
    );
    expect(audits.rows).toHaveLength(FALSE_ENTRIES);
    for (const a of audits.rows) {
      expect(a.summary).toContain("remembered incident quarantined");
      expect(a.detail.evidence.contradicted).toBeGreaterThan(a.detail.evidence.confirmed);
    }
    // And no true memory was quarantined: the incidents Suture resolved stay remembered and recalled
    const kept = await suture.db.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM incident_memory WHERE kind = 'incident' AND quarantined_at IS NULL AND scope = 'default'");
    expect(kept.rows[0]!.n).toBe(detectedAfter!);

    // When the next incident comes
    const after = await runScenario(suture, scenario);
    // Then Suture rolls back unattended, as it did before its memory was corrupted
    expect(after.awaitingApproval).toBeUndefined();
    expect(after.state.outcome?.status).toBe("resolved");
    expect(after.state.attempts.map((a) => a.call.tool)).toEqual(["rollout_undo"]);

    // And 0 unsafe actions: only the right rollbacks ran, each once
    const actions = await suture.db.pool.query<{ tool: string; status: string; n: number }>("SELECT tool, status, count(*)::int AS n FROM actions GROUP BY tool, status");
    expect(actions.rows.map((r) => `${r.tool} ${r.status}`)).toEqual(["rollout_undo succeeded"]);

    // When a human restores one entry, it is recalled again (and the restore is audited)
    const [first] = (await suture.store.activeSelfRecoveries()).filter((r) => r.kind === "memory_quarantine");
    await suture.store.restoreSelfRecovery(first!.id, "oncall", "checked: this one was real");
    const restored = await suture.db.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM incident_memory WHERE quarantined_at IS NOT NULL");
    expect(restored.rows[0]!.n).toBe(FALSE_ENTRIES - 1);
  });
});
