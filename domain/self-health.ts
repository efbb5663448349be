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
} as const;

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
 * 0 — is below `alpha`. Only a rise is an anomaly: fewer escalations or rollbacks is not a fault.
 */
export function judgeRate(metric: SelfRate, current: RateCount, baseline: RateCount, test: AnomalyTest = DEFAULT_ANOMALY_TEST): RateVerdict {
  const base = { metric, meaning: SELF_RATES[metric], current: { ...current, rate: rate(current) }, baseline: { ...baseline, rate: rate(baseline) } };
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
