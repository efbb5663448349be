import { type SelfRate, type SelfRecoveryKind } from "../domain/self-health.js";
import type { IncidentStore } from "../store/incident-store.js";
import type { SelfRecoveryRow } from "../store/self-recoveries.js";
import type { ClockSync } from "../store/clock.js";
import type { Suture } from "./suture.js";
import { faultInSelfRecovery } from "./fault-points.js";
import { selfHealth, type HealthWindows, DEFAULT_HEALTH_WINDOWS } from "./health.js";

/**
 * Self-metrics whose anomaly means Suture's own actions go wrong more often than they used to:
 * each lowers autonomy to `recommend` (every action needs a human's approval) until a human
 * restores it. Escalations and policy denials rising narrow nothing: they already hand over.
 */
export const AUTONOMY_LOWERING_RATES: readonly SelfRate[] = ["rollback_rate", "not_recovered_rate", "action_failure_rate"];

/**
 * The recovery each self-metric's anomaly calls for, from the closed set; a metric not named here
 * opens none. Each narrows: approval for every action, no mutation at all while the adapter fails
 * (a breaker: reads go on with back-off), or diagnosis without the model while its answers fail.
 */
export const RECOVERY_FOR: Partial<Record<SelfRate, { kind: SelfRecoveryKind; autonomy: "recommend" | "observe" | null }>> = {
  ...Object.fromEntries(AUTONOMY_LOWERING_RATES.map((m) => [m, { kind: "lower_autonomy", autonomy: "recommend" }])),
  adapter_read_failure_rate: { kind: "adapter_breaker", autonomy: "observe" },
  adapter_write_failure_rate: { kind: "adapter_breaker", autonomy: "observe" },
  model_failure_rate: { kind: "model_off", autonomy: null },
};

/** A remembered incident contradicted this many times (and more often than confirmed) is quarantined. */
export const MEMORY_CONTRADICTIONS = 2;

/**
 * One pass of self-recovery: judges Suture's own health and, for each anomalous rate that calls
 * for a recovery ({@link RECOVERY_FOR}), opens it (once per metric while one is in force), with
 * the metric, the counts, the test and both windows as its reason, audited in the same
 * transaction; and quarantines every remembered incident that verified attempts contradicted
 * {@link MEMORY_CONTRADICTIONS} times or more (and more often than they confirmed it). Returns the
 * recoveries it opened. It never grants a tool, a risk or autonomy.
 */
export async function selfRecoveryPass(store: IncidentStore, now: Date = new Date(), windows: HealthWindows = DEFAULT_HEALTH_WINDOWS): Promise<SelfRecoveryRow[]> {
  const health = await selfHealth(store, now, windows);
  const opened: SelfRecoveryRow[] = [];
  for (const r of health.rates) {
    const recovery = RECOVERY_FOR[r.metric];
    if (r.status !== "anomalous" || recovery === undefined) continue;
    const reason =
      `${r.metric} (${r.meaning}) is anomalous: ${r.reason} (window ${health.window.from} – ${health.window.until}, baseline since ${health.baseline.from}; ` +
      `one-sided binomial, p < ${health.test.alpha}${r.recent !== undefined ? `; or the last calls failing at or above ${r.recent.limit}` : ""})`;
    const row = await store.openSelfRecovery(
      {
        kind: recovery.kind,
        metric: r.metric,
        autonomy: recovery.autonomy,
        reason,
        evidence: {
          metric: r.metric,
          current: r.current,
          baseline: r.baseline,
          pValue: r.pValue,
          recent: r.recent ?? null,
          window: health.window,
          baselineWindow: health.baseline,
          test: health.test,
        },
      },
      faultInSelfRecovery,
    );
    if (row !== undefined) opened.push(row);
  }
  for (const entry of await store.contradictedMemories(MEMORY_CONTRADICTIONS)) {
    const reason =
      `remembered incident ${entry.incidentId} (${entry.title}) was contradicted by ${entry.contradicted} verified attempt(s) it swayed ` +
      `and confirmed by ${entry.confirmed} (limit: ${MEMORY_CONTRADICTIONS} contradictions, more than confirmations); contradicted by ${entry.by.join(", ")}`;
    const row = await store.quarantineMemory(entry, reason, {
      memoryIncidentId: entry.incidentId,
      scope: entry.scope,
      contradicted: entry.contradicted,
      confirmed: entry.confirmed,
      by: entry.by,
      limit: MEMORY_CONTRADICTIONS,
    });
    if (row !== undefined) opened.push(row);
  }
  return opened;
}

/** A worker whose clock differs from the database's by more than this is reported (its deadlines are corrected either way). */
export const CLOCK_SKEW_LIMIT_MS = 2_000;

/**
 * Measures this worker's clock against the database's and from then on times deadlines by the
 * database's (`suture.clock`); a skew beyond {@link CLOCK_SKEW_LIMIT_MS} is audited as `clock_skew`
 * (once per worker and whole second of skew) and returned, so an operator fixes the host's time
 * sync. Nothing is widened: the correction only makes every worker agree on when a deadline comes.
 */
export async function checkClock(suture: Pick<Suture, "clock" | "store" | "locks">): Promise<ClockSync & { reported: boolean }> {
  const sync = await suture.clock.sync();
  if (Math.abs(sync.skewMs) <= CLOCK_SKEW_LIMIT_MS) return { ...sync, reported: false };
  const seconds = Math.round(sync.skewMs / 1000);
  await suture.store.audit({
    incidentId: null,
    actor: "self-health",
    kind: "clock_skew",
    summary:
      `worker ${suture.locks.worker}'s clock is ${Math.abs(sync.skewMs / 1000).toFixed(1)} s ${sync.skewMs > 0 ? "ahead of" : "behind"} the database's ` +
      `(limit ${CLOCK_SKEW_LIMIT_MS / 1000} s, measured to within ${(sync.roundTripMs / 2).toFixed(0)} ms): its settle, approval and continuation deadlines are timed by the database's clock; fix the host's time sync`,
    detail: { worker: suture.locks.worker, skewMs: sync.skewMs, roundTripMs: sync.roundTripMs, limitMs: CLOCK_SKEW_LIMIT_MS },
    dedupeKey: `clock-skew:${suture.locks.worker}:${seconds}`,
  });
  return { ...sync, reported: true };
}
