import { DEFAULT_ANOMALY_TEST, judgeRate, RECENT_CALL_LIMITS, type AnomalyTest, type RateCount, type RateVerdict, type RecentCallLimit, type SelfRate } from "../domain/self-health.js";
import type { IncidentStore } from "../store/incident-store.js";

/** The windows Suture's health compares: the last `windowHours` against the `baselineDays` before them. */
export interface HealthWindows {
  windowHours: number;
  baselineDays: number;
}

/** The last 6 hours against the 7 days before them. */
export const DEFAULT_HEALTH_WINDOWS: HealthWindows = { windowHours: 6, baselineDays: 7 };

/** Suture's own health at a moment: each self-metric's rate in the window against its baseline. */
export interface SelfHealth {
  at: string;
  window: { from: string; until: string };
  baseline: { from: string; until: string };
  test: AnomalyTest;
  rates: RateVerdict[];
}

/** Judges every self-metric of the last window against its baseline (wall-clock time; replays excluded). */
export async function selfHealth(store: IncidentStore, now: Date = new Date(), windows: HealthWindows = DEFAULT_HEALTH_WINDOWS, test: AnomalyTest = DEFAULT_ANOMALY_TEST): Promise<SelfHealth> {
  const windowFrom = new Date(now.getTime() - windows.windowHours * 3_600_000);
  const baselineFrom = new Date(windowFrom.getTime() - windows.baselineDays * 86_400_000);
  const counts = await store.selfRateCounts({ baselineFrom, windowFrom, until: now });
  const recent = new Map<SelfRate, RateCount>();
  for (const [metric, limit] of Object.entries(RECENT_CALL_LIMITS) as Array<[SelfRate, RecentCallLimit]>) recent.set(metric, await store.recentCallCounts(limit.component, limit.lastCalls));
  return {
    at: now.toISOString(),
    window: { from: windowFrom.toISOString(), until: now.toISOString() },
    baseline: { from: baselineFrom.toISOString(), until: windowFrom.toISOString() },
    test,
    rates: counts.map((c) => judgeRate(c.metric, c.current, c.baseline, test, recent.get(c.metric))),
  };
}
