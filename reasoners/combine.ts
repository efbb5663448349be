import type { Hypothesis } from "../domain/model.js";

/**
 * How much each reasoner's belief counts when reasoners agree on a fault class. Runbook rules are
 * checked patterns (weight 1); a model's confidence, already scaled down when grounded, counts
 * a bit more than half as much: models are often confidently wrong, so agreement raises
 * confidence and weak support lowers it, without the model ever outvoting the rules alone.
 * Unknown reasoners count with {@link DEFAULT_WEIGHT}.
 */
export const REASONER_WEIGHTS: Readonly<Record<string, number>> = { rules: 1, llm: 0.6 };
/** The weight of a reasoner {@link REASONER_WEIGHTS} (or a policy's `pooling.weights`) does not name. */
export const DEFAULT_WEIGHT = 0.5;
/** Pooled confidence never reaches certainty: something may always be missing from the evidence. */
const MAX_POOLED = 0.97;

function logit(p: number): number {
  const q = Math.min(0.99, Math.max(0.01, p));
  return Math.log(q / (1 - q));
}

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** A reasoner's weight in {@link combine}, from `weights` (the policy's `pooling.weights`; by default {@link REASONER_WEIGHTS}). */
export function reasonerWeight(reasoner: string, weights: Readonly<Record<string, number>> = REASONER_WEIGHTS): number {
  return weights[reasoner] ?? DEFAULT_WEIGHT;
}

/** The pooled confidence of several reasoners' beliefs in one fault class: `sigmoid(Σ wᵣ · logit(pᵣ))`, capped (one belief is returned unchanged). */
export function poolConfidence(beliefs: ReadonlyArray<{ reasoner: string; confidence: number }>, weights: Readonly<Record<string, number>> = REASONER_WEIGHTS): number {
  if (beliefs.length === 1) return (beliefs[0] as { confidence: number }).confidence;
  return Math.min(MAX_POOLED, sigmoid(beliefs.reduce((sum, b) => sum + reasonerWeight(b.reasoner, weights) * logit(b.confidence), 0)));
}

/**
 * Combines hypotheses from several reasoners into one ranked list. Hypotheses of the same fault
 * class from different reasoners are one explanation: their confidences are pooled in log-odds,
 * `logit(c) = Σ wᵣ · logit(pᵣ)` over each reasoner's best hypothesis for that class, capped at
 * {@link MAX_POOLED}; the first reasoner in the list (the rules) supplies title and evidence, the
 * others add evidence and any candidates it lacks, and an `escalate` from anyone wins. A fault
 * class only one reasoner proposes keeps that reasoner's confidence unchanged, so with rules
 * alone the result is exactly the rules' output. Memory's adjustment comes after this, per
 * candidate (see applyMemory).
 */
export function combine(perReasoner: Hypothesis[][], weights: Readonly<Record<string, number>> = REASONER_WEIGHTS): Hypothesis[] {
  const byClass = new Map<string, Hypothesis[]>();
  for (const list of perReasoner) {
    for (const h of list) byClass.set(h.faultClass, [...(byClass.get(h.faultClass) ?? []), h]);
  }
  const out: Hypothesis[] = [];
  for (const group of byClass.values()) {
    const reasoners = [...new Set(group.map((h) => h.reasoner))];
    if (reasoners.length < 2) {
      out.push(...group);
      continue;
    }
    // Each reasoner's best for this class is its vote; anything else it said about the class stays as it was.
    const tops = reasoners.map((r) => group.filter((h) => h.reasoner === r).sort((a, b) => b.confidence - a.confidence)[0] as Hypothesis);
    const rest = group.filter((h) => !tops.includes(h));
    const pooled = poolConfidence(tops, weights);
    const base = tops[0] as Hypothesis;
    const strategies = new Set(base.candidates.map((c) => c.strategy));
    const extra = tops.slice(1).flatMap((h) => h.candidates.filter((c) => !strategies.has(c.strategy) && strategies.add(c.strategy)));
    out.push({
      ...base,
      id: `${base.id}+${tops
        .slice(1)
        .map((h) => h.reasoner)
        .join("+")}`,
      confidence: pooled,
      reasoner: tops.map((h) => h.reasoner).join("+"),
      evidenceIds: [...new Set(tops.flatMap((h) => h.evidenceIds))],
      disposition: tops.some((h) => h.disposition === "escalate") ? "escalate" : base.disposition,
      candidates: [...base.candidates, ...extra],
      explanation: tops.map((h) => `${h.reasoner}: ${h.explanation}`).join(" | "),
      contributions: tops.map((h) => ({ reasoner: h.reasoner, confidence: h.confidence, weight: reasonerWeight(h.reasoner, weights) })),
      inconsistencies: tops.flatMap((h) => h.inconsistencies ?? []),
    });
    out.push(...rest);
  }
  return out;
}
