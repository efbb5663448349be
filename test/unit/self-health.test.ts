import { describe, expect, it } from "vitest";
import { binomialUpperTail, judgeRate } from "../../domain/self-health.js";

describe("the anomaly test on Suture's own rates", () => {
  it("computes the binomial upper tail exactly on small cases", () => {
    // Given X ~ Binomial(3, 0.5) Then P(X ≥ 2) = 4/8, P(X ≥ 0) = 1, P(X ≥ 4) = 0
    expect(binomialUpperTail(2, 3, 0.5)).toBeCloseTo(0.5, 12);
    expect(binomialUpperTail(0, 3, 0.5)).toBe(1);
    expect(binomialUpperTail(4, 3, 0.5)).toBe(0);
  });

  it("does not call a busy Monday an anomaly: three times the incidents at the baseline's escalation rate", () => {
    // Given a baseline of 20 escalations in 200 diagnoses and a window of 31 in 300
    const v = judgeRate("escalation_rate", { events: 31, trials: 300 }, { events: 20, trials: 200 });
    // Then it is judged, and not anomalous
    expect(v.status).toBe("ok");
    expect(v.pValue!).toBeGreaterThan(0.1);
  });

  it("flags a doubled rollback rate, with the counts and the p-value in its reason", () => {
    // Given a baseline of 10 rollbacks in 100 remediations and a window of 14 in 60
    const v = judgeRate("rollback_rate", { events: 14, trials: 60 }, { events: 10, trials: 100 });
    // Then it is anomalous
    expect(v.status).toBe("anomalous");
    expect(v.pValue!).toBeLessThan(0.01);
    expect(v.reason).toMatch(/^14\/60 \(23\.3 %\) against a baseline of 10\/100 \(10\.0 %\): p = 0\.00\d+ < 0\.01$/);
  });

  it("judges nothing on too few trials in the window or in the baseline, and never flags a fall", () => {
    // Given 5 of 5 remediations failing with 5 trials, a window without a baseline, and a rate that fell
    expect(judgeRate("action_failure_rate", { events: 5, trials: 5 }, { events: 0, trials: 100 }).status).toBe("insufficient");
    expect(judgeRate("action_failure_rate", { events: 9, trials: 10 }, { events: 0, trials: 3 }).reason).toContain("no baseline yet");
    expect(judgeRate("escalation_rate", { events: 0, trials: 50 }, { events: 40, trials: 100 }).status).toBe("ok");
  });
});
