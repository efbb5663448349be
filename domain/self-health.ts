/**
 * Suture's own health: rates of its decisions and actions in a recent window, each tested
 * against the same rate over a longer baseline before it. A rate, not a count, so a busy Monday
 * with many incidents is not an anomaly while a doubled rollback rate is.
 */

/** Events out of trials in one window (e.g. rollbacks out of executed remediations). */
export interface RateCount {
  events: number;
  trials: number;
}

/** The self-metrics measured as rates; what counts as an event and as a trial. */
export const SELF_RATES = {
  escalation_rate: "diagnoses that escalated, of all diagnoses",
  policy_deny_rate: "policy verdicts that denied, of all policy verdicts",
  rollback_rate: "rollbacks run, of remediations executed",
  not_recovered_rate: "remediations verify judged not recovered or worse, of those it judged",
  action_failure_rate: "remediations whose tool call failed, of remediations executed",
  adapter_read_failure_rate: "adapter reads that timed out or failed (5xx, no answer), of all adapter reads",
  adapter_write_failure_rate: "adapter mutations that timed out, failed (5xx, no answer) or met a conflict (409), of all adapter mutations",
  model_failure_rate: "model calls that gave nothing usable (invalid output, timeout, error, every proposal discarded), of model calls asked",
} as const;

/** A limit on the most recent calls of a component, judged like a circuit breaker: by count, not by time. */
export interface RecentCallLimit {
  component: "adapter_read" | "adapter_write" | "model";
  /** How many of the most recent calls are judged. */
  lastCalls: number;
  /** Fewer recent calls than this: not judged. */
  minCalls: number;
  /** A failure share at or above this is anomalous, whatever the baseline. */
  limit: number;
}

/**
 * Call failures are judged on the last calls as well as on the window: a breaker must open after
 * a handful of failed mutations, not once they outnumber a day of successful ones, and a fresh
 * install with no baseline still stops mutating through an adapter that fails every other call.
 */
export const RECENT_CALL_LIMITS: Partial<Record<SelfRate, RecentCallLimit>> = {
  adapter_write_failure_rate: { component: "adapter_write", lastCalls: 10, minCalls: 3, limit: 0.5 },
  adapter_read_failure_rate: { component: "adapter_read", lastCalls: 50, minCalls: 20, limit: 0.5 },
  model_failure_rate: { component: "model", lastCalls: 10, minCalls: 5, limit: 0.5 },
};

/** A self-metric's name. */
export type SelfRate = keyof typeof SELF_RATES;

/** The anomaly test's settings. */
export interface AnomalyTest {
  /** The one-sided p-value below which a rise is an anomaly. */
  alpha: number;
  /** Fewer trials in the window than this: not judged. */
  minTrials: number;
  /** Fewer trials in the baseline than this: not judged (no baseline yet). */
  minBaselineTrials: number;
}

/** alpha 0.01, at least 10 trials in the window and 20 in the baseline. */
export const DEFAULT_ANOMALY_TEST: AnomalyTest = { alpha: 0.01, minTrials: 10, minBaselineTrials: 20 };

/** One self-metric judged against its baseline. */
export interface RateVerdict {
  metric: SelfRate;
  meaning: string;
  current: RateCount & { rate: number | null };
  baseline: RateCount & { rate: number | null };
  /** P(at least this many events | the baseline rate), one-sided; null when not judged. */
  pValue: number | null;
  /** The most recent calls, for metrics judged on them too ({@link RECENT_CALL_LIMITS}). */
  recent?: RateCount & { rate: number | null; limit: number };
  status: "ok" | "anomalous" | "insufficient";
  reason: string;
}

function logChoose(n: number, k: number): number {
  let sum = 0;
  for (let i = 1; i <= k; i += 1) sum += Math.log((n - k + i) / i);
  return sum;
}

/** P(X ≥ x) for X ~ Binomial(n, p). */
export function binomialUpperTail(x: number, n: number, p: number): number {
  if (x <= 0) return 1;
  if (x > n) return 0;
  if (p <= 0) return 0;
  if (p >= 1) return 1;
  let total = 0;
  for (let k = x; k <= n; k += 1) total += Math.exp(logChoose(n, k) + k * Math.log(p) + (n - k) * Math.log(1 - p));
  return Math.min(1, total);
}

const rate = (c: RateCount): number | null => (c.trials === 0 ? null : c.events / c.trials);
const pct = (r: number | null): string => (r === null ? "-" : `${(r * 100).toFixed(1)} %`);

/**
 * Tests a window's rate against its baseline: anomalous when the window has enough trials, the
 * baseline has enough, and the one-sided binomial p-value of at least this many events under the
 * baseline rate — smoothed as (events + 1) / (trials + 2), so an empty baseline is not a rate of
 * 0 — is below `alpha`; or, for call failures, when the most recent calls (`recent`) fail at or
 * above their limit ({@link RECENT_CALL_LIMITS}). Only a rise is an anomaly: fewer escalations or
 * rollbacks is not a fault.
 */
export function judgeRate(metric: SelfRate, current: RateCount, baseline: RateCount, test: AnomalyTest = DEFAULT_ANOMALY_TEST, recent?: RateCount): RateVerdict {
  const limit = RECENT_CALL_LIMITS[metric];
  const last = recent !== undefined && limit !== undefined ? { ...recent, rate: rate(recent), limit: limit.limit } : undefined;
  const base = { metric, meaning: SELF_RATES[metric], current: { ...current, rate: rate(current) }, baseline: { ...baseline, rate: rate(baseline) }, ...(last !== undefined ? { recent: last } : {}) };
  if (last !== undefined && limit !== undefined && last.trials >= limit.minCalls && last.events / last.trials >= limit.limit) {
    return { ...base, pValue: null, status: "anomalous", reason: `${last.events} of the last ${last.trials} calls failed (${pct(last.rate)}), at or above the limit of ${pct(limit.limit)}` };
  }
  if (current.trials < test.minTrials) return { ...base, pValue: null, status: "insufficient", reason: `${current.trials} trial(s) in the window, fewer than ${test.minTrials}` };
  if (baseline.trials < test.minBaselineTrials) {
    return { ...base, pValue: null, status: "insufficient", reason: `${baseline.trials} trial(s) in the baseline, fewer than ${test.minBaselineTrials}: no baseline yet` };
  }
  const expected = (baseline.events + 1) / (baseline.trials + 2);
  const pValue = binomialUpperTail(current.events, current.trials, expected);
  const anomalous = pValue < test.alpha && current.events / current.trials > expected;
  return {
    ...base,
    pValue,
    status: anomalous ? "anomalous" : "ok",
    reason: `${current.events}/${current.trials} (${pct(rate(current))}) against a baseline of ${baseline.events}/${baseline.trials} (${pct(rate(baseline))}): p = ${pValue.toPrecision(2)}${anomalous ? ` < ${test.alpha}` : ""}`,
  };
}

/**
 * The closed set of recoveries Suture may apply to itself, each only narrowing what it does:
 * `lower_autonomy` (every action needs approval), `adapter_breaker` (no mutation runs; reads go
 * on with back-off), `model_off` (diagnosis by the rules and memory only), `memory_quarantine`
 * (a remembered incident whose outcome later verified attempts contradicted is no longer recalled
 * nor counted: evidence shown false is set aside; no tool, risk or autonomy is granted by it).
 */
export type SelfRecoveryKind = "lower_autonomy" | "adapter_breaker" | "model_off" | "memory_quarantine";

/** What a recovery does, in words: "autonomy lowered to recommend", "adapter breaker open: no mutation runs". */
export function describeSelfRecovery(row: { kind: SelfRecoveryKind; autonomy: "recommend" | "observe" | null }): string {
  if (row.kind === "adapter_breaker") return "adapter breaker open: no mutation runs, reads go on with back-off";
  if (row.kind === "model_off") return "model reasoner off: diagnosis by the rules and memory only";
  if (row.kind === "memory_quarantine") return "remembered incident quarantined: no longer recalled nor counted";
  return `autonomy lowered to ${row.autonomy ?? "recommend"}`;
}
