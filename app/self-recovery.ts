import type { SelfRate } from "../domain/self-health.js";
import type { IncidentStore } from "../store/incident-store.js";
import type { SelfRecoveryRow } from "../store/self-recoveries.js";
import { selfHealth, type HealthWindows, DEFAULT_HEALTH_WINDOWS } from "./health.js";

/**
 * Self-metrics whose anomaly means Suture's own actions go wrong more often than they used to:
 * each lowers autonomy to `recommend` (every action needs a human's approval) until a human
 * restores it. Escalations and policy denials rising narrow nothing: they already hand over.
 */
export const AUTONOMY_LOWERING_RATES: readonly SelfRate[] = ["rollback_rate", "not_recovered_rate", "action_failure_rate"];

/**
 * One pass of self-recovery: judges Suture's own health and, for each autonomy-lowering rate that
 * is anomalous, opens a `lower_autonomy` recovery (once per metric while one is in force), with
 * the metric, the counts, the test and both windows as its reason, audited in the same
 * transaction. Returns the recoveries it opened. It can only narrow what Suture may do.
 */
export async function selfRecoveryPass(store: IncidentStore, now: Date = new Date(), windows: HealthWindows = DEFAULT_HEALTH_WINDOWS): Promise<SelfRecoveryRow[]> {
  const health = await selfHealth(store, now, windows);
  const opened: SelfRecoveryRow[] = [];
  for (const r of health.rates) {
    if (r.status !== "anomalous" || !AUTONOMY_LOWERING_RATES.includes(r.metric)) continue;
    const reason =
      `${r.metric} (${r.meaning}) is anomalous: ${r.reason} (window ${health.window.from} – ${health.window.until}, baseline since ${health.baseline.from}; ` +
      `one-sided binomial, p < ${health.test.alpha})`;
    const row = await store.openSelfRecovery({
      kind: "lower_autonomy",
      metric: r.metric,
      autonomy: "recommend",
      reason,
      evidence: { metric: r.metric, current: r.current, baseline: r.baseline, pValue: r.pValue, window: health.window, baselineWindow: health.baseline, test: health.test },
    });
    if (row !== undefined) opened.push(row);
  }
  return opened;
}
