import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { selfHealth } from "../../app/health.js";
import { runScenario } from "../../app/scenario-run.js";
import { selfRecoveryPass } from "../../app/self-recovery.js";
import { openTestSuture, shippedScenario, type TestSuture } from "../helpers/suture.js";
import type { Database } from "../../store/database.js";
import { IncidentStore } from "../../store/incident-store.js";
import { migrate } from "../../store/migrate.js";
import { testBackends } from "../helpers/backends.js";
import { incidentHistory } from "../helpers/self-history.js";

const NOW = new Date("2026-12-01T12:00:00Z");

/** {@link incidentHistory} before NOW. */
const history = (db: Database, tag: string, hoursAgo: number, n: number, rollbacks: number, escalations: number, forkedFrom: string | null = null): Promise<void> =>
  incidentHistory(db, NOW, { tag, hoursAgo, n, rollbacks, escalations, forkedFrom });

describe.each(testBackends())("Suture's own health from the audit log and the actions ledger, on $name", (backend) => {
  let db: Database;
  let store: IncidentStore;
  const now = NOW;

  beforeAll(async () => {
    db = await backend.open();
    await migrate(db);
    store = new IncidentStore(db);
  });
  afterAll(async () => {
    await db.close();
  });

  it("flags a doubled rollback rate in the last 6 hours against the week before, but not a busier day at the usual escalation rate, and ignores replays", async () => {
    // Given a week with 10 rollbacks in 100 remediations and 10 escalations in 100 diagnoses
    await history(db, "base", 48, 100, 10, 10);
    // And the last 6 hours: three times the usual share of diagnoses per hour, 6 escalated of 60 (the same rate), but 15 rollbacks of 60
    await history(db, "now", 2, 60, 15, 6);
    // And replays of the window's incidents, all escalated, which are not production decisions
    await history(db, "replay", 1, 20, 0, 20, "inc-now-0");
    // When Suture's health is judged
    const health = await selfHealth(store, now);
    const rate = (m: string) => health.rates.find((r) => r.metric === m)!;
    // Then the rollback rate is anomalous with its counts
    expect(rate("rollback_rate")).toMatchObject({ status: "anomalous", current: { events: 15 }, baseline: { events: 10, trials: 100 } });
    expect(rate("rollback_rate").current.trials).toBe(60);
    // And verify's verdicts agree: 15 made worse of the 60 judged (the replays' remediations are left out)
    expect(rate("not_recovered_rate")).toMatchObject({ status: "anomalous", current: { events: 15, trials: 60 } });
    // And the escalation rate is not: the replays' escalations are left out
    expect(rate("escalation_rate")).toMatchObject({ status: "ok", current: { events: 6, trials: 60 }, baseline: { events: 10, trials: 100 } });
    // And nothing failed
    expect(rate("action_failure_rate")).toMatchObject({ status: "ok", current: { events: 0 } });
  });
});

describe.each(testBackends())("self-recovery: Suture lowers its own autonomy when its actions go wrong more often, on $name", (backend) => {
  let t: TestSuture;

  beforeAll(async () => {
    t = await openTestSuture(backend);
  });
  afterAll(async () => {
    await t.suture.close();
  });

  it("opens one audited recovery per anomalous rate, makes every action wait for approval while it is in force, and ends only on a human's restore", async () => {
    const db = t.suture.db;
    // Given a week of 10 rollbacks in 100 remediations and, in the last hours, 15 in 60
    await history(db, "base", 48, 100, 10, 10);
    await history(db, "now", 2, 60, 15, 6);
    // When the self-recovery pass runs twice
    const opened = await selfRecoveryPass(t.suture.store, NOW);
    const again = await selfRecoveryPass(t.suture.store, NOW);
    // Then it lowered autonomy once for each anomalous rate about its actions, and the second pass opened nothing
    expect(opened.map((r) => [r.metric, r.autonomy]).sort()).toEqual([
      ["not_recovered_rate", "recommend"],
      ["rollback_rate", "recommend"],
    ]);
    expect(again).toEqual([]);
    // And each is in the audit log with the metric, its counts and the test
    const audited = await db.pool.query<{ summary: string }>("SELECT summary FROM audit_log WHERE kind = 'self_recovery' ORDER BY id");
    expect(audited.rows).toHaveLength(2);
    expect(audited.rows.map((r) => r.summary).join("\n")).toMatch(/rollback_rate \(rollbacks run, of remediations executed\) is anomalous: 15\/60 \(25\.0 %\) against a baseline of 10\/100/);

    // When a bad rollout Suture would roll back on its own arrives
    const held = await runScenario(t.suture, await shippedScenario("bad-rollout-missing-image"));
    // Then the rollback waits for a human, and the verdict says why
    expect(held.state.outcome).toBeNull();
    const verdicts = await db.pool.query<{ summary: string }>("SELECT summary FROM audit_log WHERE incident_id = $1 AND kind = 'policy_verdict'", [held.incidentId]);
    expect(verdicts.rows[0]?.summary).toMatch(/Suture lowered its own autonomy to recommend \(self-recovery #\d+/);
    expect((await t.suture.store.actionsFor(held.incidentId)).filter((a) => a.executed_at !== null)).toEqual([]);

    // When a human restores both
    for (const r of opened) expect(await t.suture.store.restoreSelfRecovery(r.id, "alice", "rollbacks were a bad release train, fixed")).toMatchObject({ restored_by: "alice" });
    // Then nothing is in force, restoring again finds nothing, and the same fault is rolled back on Suture's own authority
    expect(await t.suture.store.activeSelfRecoveries()).toEqual([]);
    expect(await t.suture.store.restoreSelfRecovery(opened[0]!.id, "bob", "again")).toBeUndefined();
    const acted = await runScenario(t.suture, await shippedScenario("bad-rollout-missing-image"));
    expect(acted.state.outcome).toMatchObject({ status: "resolved" });
    const restoredAudit = await db.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM audit_log WHERE kind = 'self_recovery_restored'");
    expect(restoredAudit.rows[0]!.n).toBe(2);
  }, 60_000);
});
