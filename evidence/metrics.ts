import type { MetricPoint, MetricSeries } from "../environments/adapter.js";

/** A series reduced to what a human reads off a graph: now, before, and where it is heading. */
export interface MetricSummary {
  current: number;
  baseline: number;
  /** Change per minute over the recent points (least squares). */
  slopePerMin: number;
  max: number;
  min: number;
}

function median(values: number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** The longest stretch a series rose without a real drop: how long, how fast, and how high it got. */
export interface Climb {
  minutes: number;
  ratePerMin: number;
  peak: number;
}

/**
 * The longest steady climb in a series that rose at least `minRise`: a stretch of positive points
 * that never falls by more than sample noise (2 %, at least 4 units), timed over the last 90 % of
 * its rise to its peak (a flat stretch before it does not count). A zero (nothing running) ends a
 * stretch. A leaking container that is killed and restarted draws a sawtooth: each tooth is one
 * long climb, which a least-squares slope over the whole window averages away.
 */
export function longestClimb(points: MetricPoint[], minRise = 0): Climb | undefined {
  let best: Climb | undefined;
  const consider = (run: MetricPoint[]): void => {
    if (run.length < 2) return;
    let peakAt = 0;
    run.forEach((p, i) => {
      if (p.v > (run[peakAt]?.v ?? 0)) peakAt = i;
    });
    const peak = run[peakAt];
    const low = Math.min(...run.slice(0, peakAt + 1).map((p) => p.v));
    if (peak === undefined || peak.v - low < Math.max(minRise, Number.MIN_VALUE)) return;
    const floor = peak.v - 0.9 * (peak.v - low);
    let startAt = peakAt;
    while (startAt > 0 && (run[startAt]?.v ?? 0) > floor) startAt -= 1;
    const start = run[startAt];
    if (start === undefined) return;
    const minutes = (peak.t - start.t) / 60_000;
    if (minutes > 0 && (best === undefined || minutes > best.minutes)) best = { minutes, ratePerMin: (peak.v - start.v) / minutes, peak: peak.v };
  };
  let run: MetricPoint[] = [];
  for (const p of points) {
    const prev = run[run.length - 1];
    if (p.v <= 0 || (prev !== undefined && p.v < prev.v - Math.max(4, 0.02 * prev.v))) {
      consider(run);
      run = p.v > 0 ? [p] : [];
      continue;
    }
    run.push(p);
  }
  consider(run);
  return best;
}

/** Least-squares slope of the points, per minute. */
export function slopePerMinute(points: MetricPoint[]): number {
  if (points.length < 2) return 0;
  const t0 = points[0]?.t ?? 0;
  const xs = points.map((p) => (p.t - t0) / 60_000);
  const ys = points.map((p) => p.v);
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  let num = 0;
  let den = 0;
  for (let i = 0; i < xs.length; i++) {
    const dx = (xs[i] ?? 0) - mx;
    num += dx * ((ys[i] ?? 0) - my);
    den += dx * dx;
  }
  return den === 0 ? 0 : num / den;
}

/**
 * Summarizes a series: `current` is the mean of the last three points (smooths one noisy
 * sample), `baseline` the median of the oldest third of the window (before most incidents
 * start), slope over the last ten points.
 */
export function summarizeSeries(series: MetricSeries): MetricSummary | undefined {
  const points = series.points;
  if (points.length === 0) return undefined;
  const recent = points.slice(-3);
  const current = recent.reduce((a, p) => a + p.v, 0) / recent.length;
  const oldest = points.slice(0, Math.max(1, Math.floor(points.length / 3)));
  return {
    current,
    baseline: median(oldest.map((p) => p.v)),
    slopePerMin: slopePerMinute(points.slice(-10)),
    max: Math.max(...points.map((p) => p.v)),
    min: Math.min(...points.map((p) => p.v)),
  };
}

/** Rounds for display and evidence, keeping small rates readable. */
export function round(value: number): number {
  if (!Number.isFinite(value)) return value;
  const magnitude = Math.abs(value);
  const digits = magnitude >= 100 ? 0 : magnitude >= 1 ? 2 : 4;
  return Number(value.toFixed(digits));
}

/**
 * When the series' final abnormal stretch began (epoch ms): the first point of the last run of
 * points `abnormal` calls bad, allowing one healthy point inside the run (noise). Undefined
 * when the latest points are healthy, or when the run reaches back to the first point (it began
 * before the window, so its start is unknown).
 */
export function onsetOf(points: MetricPoint[], abnormal: (v: number) => boolean): number | undefined {
  let start: number | undefined;
  let gap = 0;
  for (let i = points.length - 1; i >= 0; i--) {
    const p = points[i];
    if (p === undefined) break;
    if (abnormal(p.v)) {
      start = i;
      gap = 0;
    } else if (start === undefined || ++gap > 1) break;
  }
  if (start === undefined || start === 0) return undefined;
  return points[start]?.t;
}

/** One stretch of abnormal points: first and last abnormal sample, epoch ms. */
export interface AbnormalEpisode {
  start: number;
  end: number;
  /** Still abnormal at the series' last point. */
  ongoing: boolean;
}

/**
 * The separate abnormal stretches of a series, oldest first: runs of points `abnormal` calls
 * bad, merged across a single healthy sample (noise), and only runs of at least two samples (one
 * stray sample is not an episode).
 */
export function episodesOf(points: MetricPoint[], abnormal: (v: number) => boolean): AbnormalEpisode[] {
  const runs: Array<{ first: number; last: number }> = [];
  points.forEach((p, i) => {
    if (!abnormal(p.v)) return;
    const open = runs[runs.length - 1];
    if (open !== undefined && i - open.last <= 2) open.last = i;
    else runs.push({ first: i, last: i });
  });
  const lastIndex = points.length - 1;
  return runs.filter((r) => r.last > r.first).map((r) => ({ start: points[r.first]?.t ?? 0, end: points[r.last]?.t ?? 0, ongoing: r.last >= lastIndex - 1 }));
}
