import { afterEach, describe, expect, it } from "vitest";
import { runScenario } from "../../app/scenario-run.js";
import { selfRecoveryPass } from "../../app/self-recovery.js";
import type { Suture } from "../../app/suture.js";
import { ApiFaults, type ApiFaultKind } from "../../environments/cluster-api/faults.js";
import { SutureMetrics } from "../../interfaces/metrics.js";
import { testBackends } from "../helpers/backends.js";
import { openTestSuture, shippedScenario } from "../helpers/suture.js";

/**
 * Chaos of the adapter: the simulated cluster's API server times out, answers 5xx or refuses
 * every write with 409 while Suture works incidents through the real Kubernetes adapter. After
 * each incident a worker's self-health pass runs. Bound stated here: the breaker opens within
 * {@link DETECTION_BOUND} incidents of the onset; from then on no mutation reaches the API.
 */
const DETECTION_BOUND = 3;

/** Short limits so a hung request costs a test a fraction of a second, not 20 s. */
const LIMITS = { timeoutMs: 300, readRetries: 2, backoffMs: 20 };

/** Incidents worked until the pass opens a breaker (at most `max`), and what each came to. */
async function untilBreaker(suture: Suture, faults: ApiFaults, max: number): Promise<{ detectedAfter: number | undefined; statuses: string[] }> {
  const scenario = await shippedScenario("bad-rollout-missing-image");
  const statuses: string[] = [];
  for (let i = 1; i <= max; i++) {
    const run = await runScenario(suture, scenario, { apiFaults: faults });
    statuses.push(run.state.outcome?.status ?? "open");
    const opened = await selfRecoveryPass(suture.store);
    if (opened.some((r) => r.kind === "adapter_breaker")) return { detectedAfter: i, statuses };
  }
  return { detectedAfter: undefined, statuses };
}

describe.each(testBackends())("chaos: the cluster's API fails under Suture, on $name", (backend) => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
    close = undefined;
  });

  async function open(): Promise<Suture> {
    const t = await openTestSuture(backend);
    close = () => t.suture.close();
    return { ...t.suture, adapterLimits: LIMITS };
  }

  const storms: Array<{ kind: ApiFaultKind; what: string }> = [
    { kind: "server_error", what: "every write answered 503" },
    { kind: "timeout", what: "every write hanging past the adapter's timeout" },
    { kind: "conflict", what: "every write refused with 409 Conflict (a storm)" },
  ];

  it.each(storms)(
    "Given $what, When incidents keep coming, Then the breaker opens within the bound, no mutation reaches the API after it, nothing is lost, and a human's restore brings actions back",
    async ({ kind }) => {
      const suture = await open();
      const faults = new ApiFaults();
      faults.inject(kind, { requests: "write", hangMs: 2_000 });

      // When incidents are worked through the failing API, with a self-health pass after each
      const { detectedAfter, statuses } = await untilBreaker(suture, faults, DETECTION_BOUND + 2);

      // Then the breaker opened within the bound
      expect(detectedAfter, `no breaker after ${statuses.length} incidents (${statuses.join(", ")})`).toBeDefined();
      expect(detectedAfter!).toBeLessThanOrEqual(DETECTION_BOUND);
      const [breaker] = (await suture.store.activeSelfRecoveries()).filter((r) => r.kind === "adapter_breaker");
      expect(breaker?.metric).toBe("adapter_write_failure_rate");
      expect(breaker?.autonomy).toBe("observe");
      // And its audit entry names the metric, the limit and the recent calls it judged
      const audit = await suture.db.pool.query<{ summary: string; detail: { metric: string; evidence: { recent: { events: number; trials: number; limit: number } } } }>(
        "SELECT summary, detail FROM audit_log WHERE kind = 'self_recovery'",
      );
      expect(audit.rows).toHaveLength(1);
      expect(audit.rows[0]!.summary).toContain("adapter breaker open: no mutation runs");
      expect(audit.rows[0]!.detail.metric).toBe("adapter_write_failure_rate");
      expect(audit.rows[0]!.detail.evidence.recent.limit).toBe(0.5);
      expect(audit.rows[0]!.detail.evidence.recent.events).toBeGreaterThanOrEqual(audit.rows[0]!.detail.evidence.recent.trials / 2);
      // And /metrics exports the breaker, the failed calls by outcome and the self-rate it judged
      const { body } = await new SutureMetrics(suture.db).render();
      expect(body).toContain('suture_self_recoveries_in_force{kind="adapter_breaker",metric="adapter_write_failure_rate"} 1');
      expect(body).toMatch(new RegExp(`suture_adapter_calls_total\\{operation="rolloutUndo",outcome="${kind}"\\} [1-9]`));
      expect(body).toMatch(/suture_self_anomalous\{metric="adapter_write_failure_rate"\} 1/);

      // When another incident comes while the breaker is open
      const failedWrites = faults.served[kind];
      const scenario = await shippedScenario("bad-rollout-missing-image");
      const during = await runScenario(suture, scenario, { apiFaults: faults });
      // Then no mutation was attempted (the API saw no further write) and the incident was handed to a human with the reason
      expect(faults.served[kind]).toBe(failedWrites);
      expect(during.state.outcome?.status).toBe("escalated");
      const verdicts = await suture.db.pool.query<{ summary: string }>("SELECT summary FROM audit_log WHERE incident_id = $1 AND kind = 'policy_verdict'", [during.incidentId]);
      expect(verdicts.rows.map((r) => r.summary).join("\n")).toContain("adapter breaker open");

      // And 0 unsafe actions: no remediation succeeded against the failing API, none is left half-done, and nothing was lost
      const actions = await suture.db.pool.query<{ status: string }>("SELECT status FROM actions");
      expect(actions.rows.filter((a) => a.status === "succeeded" || a.status === "executing" || a.status === "pending")).toEqual([]);
      const incidents = await suture.db.pool.query<{ status: string }>("SELECT status FROM incidents");
      expect(incidents.rows).toHaveLength(statuses.length + 1);
      expect(incidents.rows.every((r) => r.status === "escalated" || r.status === "failed")).toBe(true);

      // When the API recovers and a human restores the breaker
      faults.clear();
      await suture.store.restoreSelfRecovery(breaker!.id, "oncall", "API server recovered");
      const after = await runScenario(suture, scenario, { apiFaults: faults });
      // Then the next incident is remediated again
      expect(after.state.outcome?.status).toBe("resolved");
    },
  );

  it("Given a short burst of 503s on reads, When an incident is worked, Then the reads are tried again with back-off, the incident resolves and no breaker opens", async () => {
    const suture = await open();
    const faults = new ApiFaults();
    faults.inject("server_error", { requests: "read", count: 3 });
    const run = await runScenario(suture, await shippedScenario("bad-rollout-missing-image"), { apiFaults: faults });
    expect(faults.served.server_error).toBe(3);
    expect(run.state.outcome?.status).toBe("resolved");
    expect(await selfRecoveryPass(suture.store)).toEqual([]);
    const calls = await suture.db.pool.query<{ outcome: string; calls: number }>("SELECT outcome, sum(calls)::int AS calls FROM self_calls WHERE component = 'adapter_read' GROUP BY outcome");
    expect(calls.rows.find((r) => r.outcome === "server_error")?.calls).toBe(3);
  });
});
