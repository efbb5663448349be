import { describe, expect, it } from "vitest";
import { calibrationByReasoner, calibrationOf, type CalibrationPoint } from "../../app/calibration.js";
import { calibrationReport } from "../../interfaces/cli/commands/eval.js";

/** `n` decisions at `confidence`, of which `recovered` were verified as recovered. */
function points(reasoner: string, confidence: number, n: number, recovered: number): CalibrationPoint[] {
  return Array.from({ length: n }, (_, i) => ({ reasoner, confidence, recovered: i < recovered }));
}

describe("calibration of decisions to act", () => {
  it("scores a reasoner whose confidence matches its recovery rate as calibrated, and an overconfident one as not", () => {
    // Given rules that act at 0.9 and recover 9 times in 10, and a model that acts at 0.9 and recovers 5 times in 10
    const all = [...points("rules", 0.9, 10, 9), ...points("llm", 0.9, 10, 5)];
    // When calibration is computed per reasoner
    const [rules, llm] = calibrationByReasoner(all);
    // Then the rules' expected calibration error is 0 and the model's is the gap between 0.9 and 0.5
    expect(rules).toMatchObject({ reasoner: "rules", count: 10, recoveredShare: 0.9 });
    expect(rules!.ece).toBeCloseTo(0, 10);
    expect(llm!.ece).toBeCloseTo(0.4, 10);
    // And the Brier score is the mean squared gap between confidence and outcome: (9·0.01 + 0.81)/10 and (5·0.01 + 5·0.81)/10
    expect(rules!.brier).toBeCloseTo(0.09, 10);
    expect(llm!.brier).toBeCloseTo(0.41, 10);
  });

  it("weights each bin's gap by its share of the decisions, and puts a confidence of 1 in the top bin", () => {
    // Given 3 decisions at 0.65 that all recovered and 1 at 1.0 that did not
    const c = calibrationOf("pooled", [...points("pooled", 0.65, 3, 3), { reasoner: "pooled", confidence: 1, recovered: false }]);
    // Then two bins hold them, and ECE = 3/4·|1 − 0.65| + 1/4·|0 − 1|
    expect(c.bins.map((b) => [b.lower, b.count])).toEqual([
      [0.6, 3],
      [0.9, 1],
    ]);
    expect(c.ece).toBeCloseTo(0.75 * 0.35 + 0.25, 10);
  });

  it("prints a table per reasoner with its bins, ECE and Brier, and says when nothing acted", () => {
    // Given calibration for rules and pooled
    const report = calibrationReport(calibrationByReasoner([...points("rules", 0.85, 4, 3), ...points("pooled", 0.9, 4, 3)]));
    // Then each reasoner has a line with its count, ECE and Brier, and its bins
    expect(report.join("\n")).toMatch(/rules\s+4\s+0\.85\s+75%\s+0\.100\s+0\.\d{3}/);
    expect(report.join("\n")).toContain("0.8–0.9: 4 at 0.85 → 75%");
    expect(calibrationReport([])).toEqual(["", "calibration: no decision to act was executed, nothing to calibrate"]);
  });
});
