import { z } from "zod";
import { InvalidInputError } from "../domain/errors.js";
import { formatZodError } from "../domain/problems.js";
import type { Baseline } from "./baseline.js";
import { benjaminiHochberg, poissonUpperTail } from "./poisson.js";

const MINUTE = 60_000;

/** How the watch decides: its length, the false-discovery rate and the guards. */
export const DetectionConfigSchema = z
  .object({
    /** How long after a deploy its signatures are watched. */
    watchMinutes: z.number("expected a number of minutes").int("expected whole minutes").min(1, "expected at least 1 minute").max(1440, "expected at most 1440 minutes (a day)").default(60),
    /**
     * The watch's false-discovery rate, spent evenly over its looks: a signature is flagged when its
     * Benjamini–Hochberg q-value in a look is at or below q × lookEveryMinutes / watchMinutes.
     */
    q: z.number("expected a false-discovery rate").gt(0, "expected a rate > 0").lt(1, "expected a rate < 1").default(0.01),
    /**
     * How often the caller looks (re-runs detection on the counts since the deploy). Each look is a
     * fresh chance of a false alarm, so the watch's q is divided among watchMinutes / lookEveryMinutes
     * looks (Bonferroni across looks: conservative, as overlapping windows are correlated).
     */
    lookEveryMinutes: z.number("expected a number of minutes").positive("expected minutes > 0").default(1),
    /** Fewest occurrences since the deploy a flagged signature needs, however unlikely. */
    minCount: z.number("expected a count").int("expected a whole count").min(1, "expected at least 1").default(5),
    /** Smallest observed / expected ratio a flagged signature needs: a tiny but significant drift is not a regression. */
    minRateRatio: z.number("expected a ratio").min(1, "expected a ratio ≥ 1").default(2),
    /**
     * Largest correction for today's traffic: expected counts are scaled by the median observed /
     * expected ratio of the well-counted signatures, clamped to [1 / maxTrafficScale, maxTrafficScale]
     * (1 turns the correction off). A busy day lifts every signature; a regression lifts a few.
     */
    maxTrafficScale: z.number("expected a ratio").min(1, "expected a ratio ≥ 1 (1 turns the correction off)").max(4, "expected a ratio ≤ 4").default(1.5),
    /** Hours of baseline needed before a deploy is judged at all (a new workload has no profile yet). */
    minBaselineHours: z.number("expected a number of hours").min(0, "expected ≥ 0").default(24),
  })
  .strict();

/** Detection config as given (every field optional). */
export type DetectionConfigInput = z.input<typeof DetectionConfigSchema>;
/** Detection config with defaults filled in. */
export type DetectionConfig = z.output<typeof DetectionConfigSchema>;

/** Parses a detection config, refusing a bad one with InvalidInputError naming each field. */
export function parseDetectionConfig(input: unknown): DetectionConfig {
  const parsed = DetectionConfigSchema.safeParse(input ?? {});
  if (!parsed.success) throw new InvalidInputError(`regression watch config: ${formatZodError(parsed.error)}`);
  return parsed.data;
}

/** A deploy marker: which workload, which version, when (epoch ms). */
export const DeployMarkerSchema = z
  .object({
    workload: z.string("expected the workload's name").min(1, "expected the workload's name"),
    version: z.string("expected the version deployed").min(1, "expected the version deployed"),
    at: z.number("expected epoch milliseconds").int("expected whole epoch milliseconds").nonnegative("expected epoch milliseconds ≥ 0"),
  })
  .strict();

/** A deploy the watch judges. */
export type DeployMarker = z.output<typeof DeployMarkerSchema>;

/** Signature counts observed over [from, to) since a deploy. */
export const ObservedCountsSchema = z
  .object({
    from: z.number("expected epoch milliseconds").int("expected whole epoch milliseconds"),
    to: z.number("expected epoch milliseconds").int("expected whole epoch milliseconds"),
    counts: z.record(z.string().min(1, "expected a non-empty signature"), z.number("expected a count").int("expected a whole count").nonnegative("expected a count ≥ 0")),
  })
  .strict();

/** Observed counts over a window. */
export type ObservedCounts = z.output<typeof ObservedCountsSchema>;

/** One signature's test. */
export interface SignatureTest {
  signature: string;
  observed: number;
  /** The baseline's expected count over the same window, scaled for today's traffic. */
  expected: number;
  /** observed / expected. */
  rateRatio: number;
  /** One-tailed Poisson p-value, P(X ≥ observed | expected). */
  p: number;
  /** Benjamini–Hochberg q-value across every signature tested in this look (flagged at ≤ the look's threshold). */
  q: number;
  /** Whether the baseline window holds the signature at all. */
  seenBefore: boolean;
  /** Whether it passes every test: q, minimum count and minimum rate ratio. */
  flagged: boolean;
}

/** A candidate regression: the deploy and the signatures that rose after it. */
export interface CandidateRegression {
  deploy: DeployMarker;
  window: { from: number; to: number };
  /** Flagged signatures, most significant first. */
  signatures: SignatureTest[];
}

/** What one look at a deploy found. */
export interface DetectionResult {
  deploy: DeployMarker;
  window: { from: number; to: number };
  /** `judged` when tested; `skipped` when the baseline is too short to judge (see `reason`). */
  status: "judged" | "skipped";
  reason?: string;
  /** The factor the baseline's expected counts were scaled by for today's traffic (see trafficScaleOf). */
  trafficScale: number;
  /** The q-value at or below which a signature is flagged in this look: q / looks in the watch. */
  threshold: number;
  /** Every signature tested, most significant first. */
  tests: SignatureTest[];
  candidate?: CandidateRegression;
}

/** The parts of a baseline detection reads: an interface so a store-backed model can stand in. */
export type BaselineView = Pick<Baseline, "workload" | "expectedCount" | "signatures" | "totalOf" | "coverageMinutes">;

/** Expected count a signature needs to take part in the traffic scale (its ratio is then within about ±45 %). */
const SCALE_MIN_EXPECTED = 5;
/** Fewest well-counted signatures for a traffic scale; with fewer, no correction. */
const SCALE_MIN_SIGNATURES = 3;

/**
 * Today's traffic against the baseline's: the median observed / expected ratio over signatures
 * expected at least 5 times (the median, so a few regressing signatures do not move it), clamped
 * to [1 / max, max]; 1 when fewer than 3 signatures qualify.
 */
export function trafficScaleOf(modelled: ReadonlyArray<{ observed: number; expected: number }>, max: number): number {
  const ratios = modelled
    .filter((m) => m.expected >= SCALE_MIN_EXPECTED)
    .map((m) => m.observed / m.expected)
    .sort((a, b) => a - b);
  if (max <= 1 || ratios.length < SCALE_MIN_SIGNATURES) return 1;
  const mid = ratios.length / 2;
  const median = ratios.length % 2 === 1 ? (ratios[Math.floor(mid)] ?? 1) : ((ratios[mid - 1] ?? 1) + (ratios[mid] ?? 1)) / 2;
  return Math.min(max, Math.max(1 / max, median));
}

/**
 * Judges the signatures observed since a deploy against the baseline: each signature of the
 * baseline or the window gets a one-tailed Poisson test of its observed count against its
 * expected count; the p-values are adjusted together by Benjamini–Hochberg; a signature is
 * flagged when q ≤ config.q, observed ≥ minCount and observed / expected ≥ minRateRatio. Never-seen
 * signatures are tested against the baseline's floor. Call it as often as counts arrive (every
 * minute, say) with the counts since the deploy; the window must lie inside the watch.
 */
export function detectRegression(deployInput: unknown, baseline: BaselineView, observedInput: unknown, configInput: unknown = {}): DetectionResult {
  const deployParsed = DeployMarkerSchema.safeParse(deployInput);
  if (!deployParsed.success) throw new InvalidInputError(`deploy marker: ${formatZodError(deployParsed.error)}`);
  const observedParsed = ObservedCountsSchema.safeParse(observedInput);
  if (!observedParsed.success) throw new InvalidInputError(`observed counts: ${formatZodError(observedParsed.error)}`);
  const config = parseDetectionConfig(configInput);
  const deploy = deployParsed.data;
  const { from, to, counts } = observedParsed.data;
  if (deploy.workload !== baseline.workload) throw new InvalidInputError(`deploy marker: workload: ${deploy.workload} has no baseline here (the baseline is ${baseline.workload}'s)`);
  const watchEnd = deploy.at + config.watchMinutes * MINUTE;
  if (from < deploy.at) throw new InvalidInputError(`observed counts: from: expected at or after the deploy (${new Date(deploy.at).toISOString()}), got ${new Date(from).toISOString()}`);
  if (to <= from) throw new InvalidInputError(`observed counts: to: expected after from (${new Date(from).toISOString()}), got ${new Date(to).toISOString()}`);
  if (to > watchEnd)
    throw new InvalidInputError(`observed counts: to: expected within the ${config.watchMinutes}-minute watch (until ${new Date(watchEnd).toISOString()}), got ${new Date(to).toISOString()}`);
  const window = { from, to };
  const looks = Math.max(1, Math.ceil(config.watchMinutes / config.lookEveryMinutes));
  const threshold = config.q / looks;
  const coveredHours = baseline.coverageMinutes() / 60;
  if (coveredHours < config.minBaselineHours) {
    return {
      deploy,
      window,
      status: "skipped",
      reason: `the baseline covers ${coveredHours.toFixed(1)} h, fewer than the ${config.minBaselineHours} h needed to judge a deploy`,
      trafficScale: 1,
      threshold,
      tests: [],
    };
  }
  const signatures = [...new Set([...baseline.signatures(), ...Object.keys(counts)])];
  const modelled = signatures.map((signature) => ({ signature, observed: counts[signature] ?? 0, expected: baseline.expectedCount(signature, from, to) }));
  const trafficScale = trafficScaleOf(modelled, config.maxTrafficScale);
  const raw = modelled.map(({ signature, observed, expected: unscaled }) => {
    const expected = unscaled * trafficScale;
    return { signature, observed, expected, p: observed === 0 ? 1 : poissonUpperTail(observed, expected) };
  });
  const qs = benjaminiHochberg(raw.map((r) => r.p));
  const tests: SignatureTest[] = raw.map((r, i) => {
    const q = qs[i] ?? 1;
    const rateRatio = r.observed / r.expected;
    return {
      ...r,
      rateRatio,
      q,
      seenBefore: baseline.totalOf(r.signature) > 0,
      flagged: q <= threshold && r.observed >= config.minCount && rateRatio >= config.minRateRatio,
    };
  });
  tests.sort((a, b) => a.p - b.p || b.observed - a.observed || a.signature.localeCompare(b.signature));
  const flagged = tests.filter((t) => t.flagged);
  const result: DetectionResult = { deploy, window, status: "judged", trafficScale, threshold, tests };
  if (flagged.length > 0) result.candidate = { deploy, window, signatures: flagged };
  return result;
}
