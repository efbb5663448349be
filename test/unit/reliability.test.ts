import { describe, expect, it } from "vitest";
import type { Diagnosis, Hypothesis } from "../../domain/model.js";
import { describeReliability, reliabilityOf } from "../../domain/reliability.js";
import { fact } from "../helpers/factories.js";

/** A hypothesis of `faultClass` from `reasoner`, citing `evidenceIds`. */
function hypothesis(faultClass: string, reasoner: string, confidence: number, evidenceIds: string[], extra: Partial<Hypothesis> = {}): Hypothesis {
  return { id: `${faultClass}-${reasoner}`, faultClass, category: "deployment", title: faultClass, confidence, evidenceIds, reasoner, disposition: "act", candidates: [], explanation: "", ...extra };
}

/** A diagnosis that chose `chosen` among `hypotheses`. */
function diagnosis(chosen: Hypothesis | null, hypotheses: Hypothesis[], confidence = chosen?.confidence ?? 0): Diagnosis {
  return { round: 1, hypotheses, chosen, proposal: null, confidence, decision: chosen === null ? "escalate" : "act", reason: "", recalled: [], runbook: null, notes: [] };
}

describe("the reliability of a decision", () => {
  // The alerting workload's abnormal facts: an abnormal error rate, an error log signature and a Warning event; plus a normal fact and another service's.
  const evidence = [
    { ...fact("metric.anomalous", "api", "error_rate"), id: "e1" },
    { ...fact("log.signature", "api", "boom", { level: "error" }), id: "e2" },
    { ...fact("event.reason", "api", "BackOff"), id: "e3", summary: "Warning event BackOff on api ×4" },
    { ...fact("deploy.latest", "api", 6), id: "e4" },
    { ...fact("metric.anomalous", "db", "latency_p99_ms"), id: "e5" },
  ];

  it("joins belief and the verified outcome: a confident, agreed, consistent explanation of all the evidence that recovered scores high", () => {
    // Given rules and the model agreeing on a bad rollout that cites all three abnormal facts
    const pooled = hypothesis("bad-rollout", "rules+llm", 0.9, ["e1", "e2", "e3", "e4"], {
      contributions: [
        { reasoner: "rules", confidence: 0.85, weight: 1 },
        { reasoner: "llm", confidence: 0.7, weight: 0.6 },
      ],
    });
    // When its reliability is computed before and after verify judged the rollback recovered
    const before = reliabilityOf(diagnosis(pooled, [pooled]), evidence, "api");
    const after = reliabilityOf(diagnosis(pooled, [pooled]), evidence, "api", "recovered");
    // Then belief is the confidence (agreement 1, consistency 1, coverage 3/3), and the outcome lifts it
    expect(before).toMatchObject({ agreement: 1, reasoners: 2, consistency: 1, coverage: 1, salient: 3, cited: 3, outcome: null });
    expect(before.score).toBeCloseTo(0.9, 10);
    expect(after.score).toBeCloseTo((0.9 + 1) / 2, 10);
  });

  it("lowers belief for a model that disagrees, readings that contradict the signals, and evidence left unexplained, and lets a worse outcome sink it", () => {
    // Given rules choosing a bad rollout citing one of three abnormal facts, with one inconsistency, while the model preferred a config change
    const rules = hypothesis("bad-rollout", "rules", 0.8, ["e1"], { inconsistencies: ["stated error rate 0.5, measured 0.1"] });
    const llm = hypothesis("bad-config-change", "llm", 0.75, ["e2"]);
    // When computed with the rollback made worse
    const r = reliabilityOf(diagnosis(rules, [rules, llm]), evidence, "api", "worse");
    // Then agreement is 1/2, consistency 1/2, coverage 1/3, and the worse outcome counts 0
    expect(r).toMatchObject({ agreement: 0.5, consistency: 0.5, cited: 1, salient: 3 });
    const belief = 0.8 * 0.75 * 0.5 * (0.5 + 0.5 / 3);
    expect(r.belief).toBeCloseTo(belief, 10);
    expect(r.score).toBeCloseTo(belief / 2, 10);
    expect(describeReliability(r)).toContain("agreement 0.50 of 2 reasoner(s), consistency 0.50, coverage 1/3 abnormal facts; verified outcome 0");
  });

  it("gives an escalation with nothing chosen no belief", () => {
    // Given a diagnosis that found no explanation
    const r = reliabilityOf(diagnosis(null, []), evidence, "api");
    // Then its belief and score are 0, and nothing is verified
    expect(r).toMatchObject({ score: 0, belief: 0, outcome: null });
  });
});
