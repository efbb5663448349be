import type { MetricName } from "../adapter.js";
import { appContainer, objectKey, parseCpuCores, type Pod } from "./cluster/objects.js";
import type { PodMetricTotals, SimService, World } from "./world.js";

/** The finite `le` bounds of `http_request_duration_seconds` (seconds), as the metrics contract fixes them. */
export const LATENCY_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The kernel's CFS period: a container with a CPU limit is scheduled in 100 ms periods. */
const CFS_PERIODS_PER_SECOND = 10;
/** Utilization of its CPU limit above which a container starts being throttled. */
const THROTTLE_FROM = 0.75;

/**
 * The share of a tick's requests at or below each finite bucket bound, and their mean duration,
 * for a p99 of `p99Seconds`, chosen so that Prometheus' `histogram_quantile(0.99, …)` returns
 * exactly the p99 back.
 *
 * histogram_quantile finds the first bucket whose cumulative count reaches rank = 0.99 × count
 * and interpolates linearly inside it: a + (b − a) × (rank − C(a)) / (C(b) − C(a)). With the p99
 * L in bucket (a, b] and x = (L − a)/(b − a), we need C(a) < 0.99 ≤ C(b) and
 * C(a) + (C(b) − C(a)) × x = 0.99, i.e. C(b) = C(a) + (0.99 − C(a))/x. C(b) ≤ 1 holds when
 * C(a) ≥ (0.99 − x)/(1 − x); we take C(a) halfway between that bound (or 0) and 0.99. Below a the
 * requests spread evenly over [0, a]; the 1 − C(b) slowest land in the next bucket (past 10 s, in
 * +Inf). Two ends cannot be represented: a p99 at or under 5 ms puts every request in the first
 * bucket (the quantile reads 4.95 ms), and a p99 over 10 s reads as 10 s (Prometheus returns the
 * highest finite bound when the rank falls in +Inf).
 */
export function latencyDistribution(p99Seconds: number): { cumulative: number[]; meanSeconds: number } {
  const B = LATENCY_BUCKETS;
  const first = B[0] ?? 0.005;
  const last = B[B.length - 1] ?? 10;
  if (!(p99Seconds > first)) return { cumulative: B.map(() => 1), meanSeconds: first / 2 };
  if (p99Seconds > last) {
    // 98% evenly over [0, 10 s], 2% slower than 10 s (at the p99 itself, for the sum).
    return { cumulative: B.map((b) => (0.98 * b) / last), meanSeconds: 0.98 * (last / 2) + 0.02 * p99Seconds };
  }
  const i = B.findIndex((b) => p99Seconds <= b);
  const a = B[i - 1] ?? 0;
  const b = B[i] ?? last;
  const x = (p99Seconds - a) / (b - a);
  const lower = x < 1 ? Math.max(0, (0.99 - x) / (1 - x)) : 0;
  const atA = (lower + 0.99) / 2;
  const atB = Math.min(1, atA + (0.99 - atA) / x);
  const next = B[i + 1];
  const cumulative = B.map((bound, j) => (j < i - 1 ? (atA * bound) / a : j === i - 1 ? atA : j === i ? atB : next !== undefined ? 1 : atB));
  const tailMean = next !== undefined ? (b + next) / 2 : b * 1.5;
  const meanSeconds = atA * (a / 2) + (atB - atA) * ((a + b) / 2) + (1 - atB) * tailMean;
  return { cumulative, meanSeconds };
}

/** The value a series recorded on the tick just run, or undefined (a tick records every signal). */
function thisTick(world: World, s: SimService, metric: MetricName): number | undefined {
  const series = s.series[metric];
  const point = series[series.length - 1];
  return point !== undefined && point.t === world.state.t ? point.v : undefined;
}

function emptyTotals(uid: string): PodMetricTotals {
  return { uid, requests: { "200": 0, "500": 0 }, buckets: LATENCY_BUCKETS.map(() => 0), durationSum: 0, cpuSeconds: 0, cfsPeriods: 0, cfsThrottledPeriods: 0 };
}

/** Whether the pod's app container serves (its readiness passes). */
export function podReady(pod: Pod): boolean {
  return pod.status.containerStatuses?.[0]?.ready === true;
}

/**
 * Adds one tick of every pod's requests, latencies and CPU to its counters, from the signals the
 * tick just recorded: a service's request_rate split evenly over its ready pods, error_rate of it
 * answered 500, latency_p99_ms shaped into the histogram by {@link latencyDistribution}, and
 * cpu_cores split over the same pods. Draws nothing from the world's random stream, so a world
 * with counters runs exactly like one without. Counters of deleted pods are dropped.
 */
export function accumulateMetricTotals(world: World, totals: Record<string, PodMetricTotals>): void {
  const dt = world.state.tickMs / 1000;
  const alive = new Set<string>();
  for (const s of Object.values(world.state.services)) {
    const pods = world.pods(s);
    const ready = pods.filter(podReady);
    const rate = thisTick(world, s, "request_rate") ?? 0;
    const errorRate = Math.min(1, Math.max(0, thisTick(world, s, "error_rate") ?? 0));
    const p99Ms = thisTick(world, s, "latency_p99_ms") ?? 0;
    const cpu = thisTick(world, s, "cpu_cores") ?? 0;
    const { cumulative, meanSeconds } = latencyDistribution(p99Ms / 1000);
    for (const pod of pods) {
      const key = objectKey(pod.metadata.namespace, pod.metadata.name);
      alive.add(key);
      let t = totals[key];
      if (t === undefined || t.uid !== pod.metadata.uid) {
        t = emptyTotals(pod.metadata.uid);
        totals[key] = t;
      }
      const running = pod.status.containerStatuses?.[0]?.state?.running !== undefined;
      if (running) {
        const limit = parseCpuCores(appContainer(pod.spec)?.resources?.limits?.cpu);
        if (limit !== undefined && limit > 0) {
          const used = podReady(pod) && ready.length > 0 ? cpu / ready.length : 0;
          const periods = dt * CFS_PERIODS_PER_SECOND;
          t.cfsPeriods += periods;
          t.cfsThrottledPeriods += periods * Math.min(1, Math.max(0, (used / limit - THROTTLE_FROM) / (1 - THROTTLE_FROM)));
        }
      }
      if (!podReady(pod) || ready.length === 0) continue;
      const n = (rate * dt) / ready.length;
      t.requests["200"] = (t.requests["200"] ?? 0) + n * (1 - errorRate);
      t.requests["500"] = (t.requests["500"] ?? 0) + n * errorRate;
      cumulative.forEach((c, j) => (t.buckets[j] = (t.buckets[j] ?? 0) + n * c));
      t.durationSum += n * meanSeconds;
      t.cpuSeconds += (cpu / ready.length) * dt;
    }
  }
  for (const key of Object.keys(totals)) if (!alive.has(key)) delete totals[key];
}
