/**
 * Calibration of decisions to act: does a stated confidence of 0.8 mean that about 8 in 10 such
 * actions were verified as recovered? Per reasoner, from evaluation runs.
 */

/** What one reasoner believed about a decision to act, and whether the action was verified as recovered. */
export interface CalibrationPoint {
  reasoner: string;
  confidence: number;
  recovered: boolean;
}

/** One confidence bin: how many decisions fell in it, what they claimed on average, and how many recovered. */
export interface CalibrationBin {
  lower: number;
  upper: number;
  count: number;
  meanConfidence: number;
  recoveredShare: number;
}

/** One reasoner's calibration over an evaluation. */
export interface Calibration {
  reasoner: string;
  count: number;
  meanConfidence: number;
  recoveredShare: number;
  /** Non-empty bins only, lowest first. */
  bins: CalibrationBin[];
  /** Expected calibration error: Σ over bins of (bin count / N) · |recovered share − mean confidence|. 0 is perfect. */
  ece: number;
  /** Brier score: mean of (confidence − outcome)², outcome 1 when recovered, else 0. 0 is perfect; always saying 0.5 scores 0.25. */
  brier: number;
}

/** A diagnosis as recorded by `suture eval`, enough to decide it again under other settings. */
export interface DecisionRecord {
  /** The settings it was decided with. */
  escalateBelow: number;
  weights: Record<string, number>;
  attemptsLeft: number;
  decision: "act" | "escalate" | "no-action";
  hypotheses: Array<{
    faultClass: string;
    disposition: "act" | "no-action" | "escalate";
    /** Pooled over the reasoners, before memory's adjustment of candidates. */
    confidence: number;
    beliefs: Array<{ reasoner: string; confidence: number }>;
    candidates: Array<{ strategy: string; tool: string; actionClass: string; memoryDelta: number }>;
  }>;
}

/** The number of equal-width confidence bins over [0, 1]. */
export const CALIBRATION_BINS = 10;

/** Calibration of a set of points that belong to one reasoner. */
export function calibrationOf(reasoner: string, points: readonly CalibrationPoint[], binCount = CALIBRATION_BINS): Calibration {
  const n = points.length;
  const outcome = (p: CalibrationPoint): number => (p.recovered ? 1 : 0);
  const bins: CalibrationBin[] = [];
  for (let i = 0; i < binCount; i += 1) {
    const lower = i / binCount;
    const upper = (i + 1) / binCount;
    // The last bin is closed on the right, so a confidence of exactly 1 has a bin.
    const inBin = points.filter((p) => p.confidence >= lower && (p.confidence < upper || (i === binCount - 1 && p.confidence <= upper)));
    if (inBin.length === 0) continue;
    bins.push({
      lower,
      upper,
      count: inBin.length,
      meanConfidence: mean(inBin.map((p) => p.confidence)),
      recoveredShare: mean(inBin.map(outcome)),
    });
  }
  return {
    reasoner,
    count: n,
    meanConfidence: n === 0 ? 0 : mean(points.map((p) => p.confidence)),
    recoveredShare: n === 0 ? 0 : mean(points.map(outcome)),
    bins,
    ece: n === 0 ? 0 : bins.reduce((sum, b) => sum + (b.count / n) * Math.abs(b.recoveredShare - b.meanConfidence), 0),
    brier: n === 0 ? 0 : mean(points.map((p) => (p.confidence - outcome(p)) ** 2)),
  };
}

/** Calibration per reasoner (in order of first appearance), for points from many decisions. */
export function calibrationByReasoner(points: readonly CalibrationPoint[], binCount = CALIBRATION_BINS): Calibration[] {
  const reasoners = [...new Set(points.map((p) => p.reasoner))];
  return reasoners.map((r) =>
    calibrationOf(
      r,
      points.filter((p) => p.reasoner === r),
      binCount,
    ),
  );
}

function mean(values: readonly number[]): number {
  return values.reduce((sum, v) => sum + v, 0) / values.length;
}
