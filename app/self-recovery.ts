import { type SelfRate, type SelfRecoveryKind } from "../domain/self-health.js";
import type { IncidentStore } from "../store/incident-store.js";
import type { SelfRecoveryRow } from "../store/self-recoveries.js";
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

/**
 * One pass of self-recovery: judges Suture's own health and, for each anomalous rate that calls
 * for a recovery ({@link RECOVERY_FOR}), opens it (once per metric while one is in force), with
 * the metric, the counts, the test and both windows as its reason, audited in the same
 * transaction. Returns the recoveries it opened. It can only narrow what Suture may do.
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
  return opened;
}
