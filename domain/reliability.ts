import type { Attempt, Diagnosis, Evidence } from "./model.js";

/**
 * How much one decision deserves to be trusted: what Suture believed (confidence), whether its
 * reasoners agreed, whether the model's stated readings matched the tools', how much of the
 * alerting workload's abnormal evidence the chosen explanation accounts for, and, once verify
 * has judged the action, what happened.
 *
 *   belief      = confidence × (½ + ½·agreement) × consistency × (½ + ½·coverage)
 *   reliability = belief                       (no verified outcome yet: an escalation, a pending action)
 *               = (belief + outcome) / 2       (outcome: recovered 1, not recovered 0.25, worse 0)
 *
 * agreement: the share of the reasoners that proposed anything whose own best fault class is the
 * one chosen (1 when one reasoner spoke); consistency: 1 / (1 + the chosen hypothesis' readings
 * that contradict the signals); coverage: the share of the alerting workload's abnormal facts
 * (abnormal metrics, pod failure reasons, error log signatures, warning events) the chosen
 * hypothesis cites (1 when there are none). A decision with no chosen hypothesis has belief 0.
 */
export interface Reliability {
  score: number;
  belief: number;
  confidence: number;
  agreement: number;
  /** How many reasoners proposed a hypothesis. */
  reasoners: number;
  consistency: number;
  coverage: number;
  /** Abnormal facts of the alerting workload, and how many the chosen hypothesis cites. */
  salient: number;
  cited: number;
  /** The verified outcome's value, null until verify has judged. */
  outcome: number | null;
}

/** What each verdict of verify is worth in {@link Reliability}. */
export const OUTCOME_VALUE: Readonly<Record<"recovered" | "not_recovered" | "worse", number>> = { recovered: 1, not_recovered: 0.25, worse: 0 };

/** Whether a fact marks the alerting workload as abnormal (what an explanation should account for). */
export function isSalient(e: Evidence, service: string): boolean {
  if (e.service !== service) return false;
  if (e.key === "metric.anomalous" || e.key === "pod.reason" || e.key === "pod.last_termination") return true;
  if (e.key === "log.signature") return e.attrs["level"] === "error" || e.attrs["level"] === "fatal";
  if (e.key === "event.reason") return e.summary.startsWith("Warning");
  return false;
}

/** The reliability of a decision (see {@link Reliability}); `verdict` is the verify verdict of the action it took, when there is one. */
export function reliabilityOf(diagnosis: Diagnosis, evidence: readonly Evidence[], service: string, verdict?: keyof typeof OUTCOME_VALUE): Reliability {
  const chosen = diagnosis.chosen;
  // Each reasoner's own best fault class, from the pooled contributions or the hypothesis itself.
  const best = new Map<string, { faultClass: string; confidence: number }>();
  for (const h of diagnosis.hypotheses) {
    for (const c of h.contributions ?? [{ reasoner: h.reasoner, confidence: h.confidence }]) {
      const seen = best.get(c.reasoner);
      if (seen === undefined || c.confidence > seen.confidence) best.set(c.reasoner, { faultClass: h.faultClass, confidence: c.confidence });
    }
  }
  const reasoners = best.size;
  const agreeing = chosen === null ? 0 : [...best.values()].filter((b) => b.faultClass === chosen.faultClass).length;
  const agreement = chosen === null ? 0 : reasoners <= 1 ? 1 : agreeing / reasoners;
  const consistency = chosen === null ? 0 : 1 / (1 + (chosen.inconsistencies ?? []).length);
  const salient = evidence.filter((e) => isSalient(e, service));
  const citedIds = new Set(chosen?.evidenceIds ?? []);
  const cited = salient.filter((e) => citedIds.has(e.id)).length;
  const coverage = salient.length === 0 ? 1 : cited / salient.length;
  const confidence = chosen === null ? 0 : diagnosis.confidence;
  const belief = confidence * (0.5 + 0.5 * agreement) * consistency * (0.5 + 0.5 * coverage);
  const outcome = verdict !== undefined ? OUTCOME_VALUE[verdict] : null;
  return {
    score: outcome === null ? belief : (belief + outcome) / 2,
    belief,
    confidence,
    agreement,
    reasoners,
    consistency,
    coverage,
    salient: salient.length,
    cited,
    outcome,
  };
}

/** One line for the brief and the CLI: the score and its parts. */
export function describeReliability(r: Reliability): string {
  const outcome = r.outcome === null ? "outcome not verified yet" : `verified outcome ${r.outcome}`;
  return (
    `reliability ${r.score.toFixed(2)} (belief ${r.belief.toFixed(2)} = confidence ${r.confidence.toFixed(2)}, agreement ${r.agreement.toFixed(2)} of ${r.reasoners} reasoner(s), ` +
    `consistency ${r.consistency.toFixed(2)}, coverage ${r.cited}/${r.salient} abnormal facts; ${outcome})`
  );
}

/** The reliability of an incident's last decision, joined with the verdict of the action it took (a later decision whose proposal was denied took none). */
export function reliabilityOfLastDecision(diagnosis: Diagnosis, evidence: readonly Evidence[], service: string, attempts: readonly Attempt[]): Reliability {
  const last = attempts.at(-1);
  const verdict = diagnosis.decision === "act" && last !== undefined && last.strategy === diagnosis.proposal?.strategy ? last.verdict : undefined;
  return reliabilityOf(diagnosis, evidence, service, verdict);
}
