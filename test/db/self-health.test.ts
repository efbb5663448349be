import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { selfHealth } from "../../app/health.js";
import type { Database } from "../../store/database.js";
import { IncidentStore } from "../../store/incident-store.js";
import { migrate } from "../../store/migrate.js";
import { testBackends } from "../helpers/backends.js";

const HOUR = 3_600_000;

describe.each(testBackends())("Suture's own health from the audit log and the actions ledger, on $name", (backend) => {
  let db: Database;
  let store: IncidentStore;
  const now = new Date("2026-12-01T12:00:00Z");

  beforeAll(async () => {
    db = await backend.open();
    await migrate(db);
    store = new IncidentStore(db);
  });
  afterAll(async () => {
    await db.close();
  });

  /** An incident with `n` remediations executed `hoursAgo`, `rollbacks` of them rolled back, and one diagnosis each that escalated when `escalated` says so. */
  async function history(tag: string, hoursAgo: number, n: number, rollbacks: number, escalations: number, forkedFrom: string | null = null): Promise<void> {
    const at = new Date(now.getTime() - hoursAgo * HOUR);
    for (let i = 0; i < n; i++) {
      const id = `inc-${tag}-${i}`;
      await db.pool.query(
        "INSERT INTO incidents (id, fingerprint, alert_name, service, severity, status, forked_from, opened_at) VALUES ($1, $1, 'HighErrorRate', 'api', 'critical', 'resolved', $2, $3)",
        [id, forkedFrom, at],
      );
      await db.pool.query("INSERT INTO audit_log (incident_id, at, actor, kind, summary, detail) VALUES ($1, $2, 'diagnose', 'diagnosis', 'd', $3)", [
        id,
        at,
        JSON.stringify({ decision: i < escalations ? "escalate" : "act", confidence: 0.8 }),
      ]);
      const remediation = await db.pool.query<{ id: string }>(
        "INSERT INTO actions (incident_id, attempt, kind, tool, params, risk, action_class, idempotency_key, status, created_at, verdict) VALUES ($1, 1, 'remediation', 'rollout_undo', '{}', 'medium', 'rollback', $1 || ':r', 'succeeded', $2, $3) RETURNING id",
        [id, at, i < rollbacks ? "worse" : "recovered"],
      );
      if (i < rollbacks) {
        await db.pool.query(
          "INSERT INTO actions (incident_id, attempt, kind, tool, params, risk, action_class, idempotency_key, status, created_at, rollback_of) VALUES ($1, 1, 'rollback', 'rollout_undo', '{}', 'medium', 'rollback', $1 || ':b', 'succeeded', $2, $3)",
          [id, at, remediation.rows[0]!.id],
        );
      }
    }
  }

  it("flags a doubled rollback rate in the last 6 hours against the week before, but not a busier day at the usual escalation rate, and ignores replays", async () => {
    // Given a week with 10 rollbacks in 100 remediations and 10 escalations in 100 diagnoses
    await history("base", 48, 100, 10, 10);
    // And the last 6 hours: three times the usual share of diagnoses per hour, 6 escalated of 60 (the same rate), but 15 rollbacks of 60
    await history("now", 2, 60, 15, 6);
    // And replays of the window's incidents, all escalated, which are not production decisions
    await history("replay", 1, 20, 0, 20, "inc-now-0");
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
