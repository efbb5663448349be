import type { Signal, SignalSnapshot } from "../domain/model.js";
import type { MetricName } from "../environments/adapter.js";
import type { Observer } from "../tools/observer.js";
import { badness, isAnomalous } from "./anomaly.js";
import { summarizeSeries } from "./metrics.js";

/**
 * Re-reads the watched signals now, keeping each one's pre-incident baseline. With `since`, the
 * current value averages only points after it (when there are any): a look soon after an action
 * judges the world the action made, not a mean still holding samples from before it.
 */
export async function readSnapshot(observer: Observer, watched: Signal[], now: number, since?: number): Promise<SignalSnapshot> {
  const signals = await Promise.all(
    watched.map(async (w) => {
      const series = await observer.queryMetric(w.service, w.metric as MetricName, 5);
      const after = since === undefined || series === undefined ? [] : series.points.filter((p) => p.t > since);
      const summary = series ? summarizeSeries(after.length > 0 ? { ...series, points: after } : series) : undefined;
      return { ...w, current: summary?.current ?? w.current };
    }),
  );
  return { at: now, signals };
}

/** Signals of a snapshot that are abnormal against their baseline. */
export function anomalousSignals(snapshot: SignalSnapshot): Signal[] {
  return snapshot.signals.filter((s) => isAnomalous(s.metric, s.current, s.baseline));
}

/** Total distance from healthy over all signals (0 = everything at baseline). */
export function totalBadness(snapshot: SignalSnapshot): number {
  return snapshot.signals.reduce((sum, s) => sum + badness(s.metric, s.current, s.baseline), 0);
}

/** One line per signal: `svc metric before → after`. */
export function describeChange(before: SignalSnapshot, after: SignalSnapshot): string[] {
  return after.signals
    .map((a) => {
      const b = before.signals.find((s) => s.service === a.service && s.metric === a.metric);
      if (b === undefined) return undefined;
      if (!isAnomalous(a.metric, a.current, a.baseline) && !isAnomalous(b.metric, b.current, b.baseline)) return undefined;
      return `${a.service} ${a.metric} ${fmt(b.current)} → ${fmt(a.current)} (baseline ${fmt(a.baseline)})`;
    })
    .filter((s): s is string => s !== undefined);
}

function fmt(v: number): string {
  return Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toFixed(3);
}
