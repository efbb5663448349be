import path from "node:path";
import { describe, expect, it } from "vitest";
import { decisionOf, expectedDecision, mitigatedAt, scenarioFiles, summarize, withTags, type ScenarioResult } from "../../app/evaluate.js";
import { loadScenario } from "../../app/scenario.js";
import { decisionReport, minutesSeconds } from "../../interfaces/cli/commands/eval.js";
import { ROOT } from "../helpers/cli.js";

/** A scored run with the fields the report reads; the rest are neutral. */
function result(over: Partial<ScenarioResult> & Pick<ScenarioResult, "faultClass" | "decision" | "expectedDecision">): ScenarioResult {
  return {
    scenario: `s-${Math.random().toString(36).slice(2, 8)}`,
    file: "x.yaml",
    incidentId: "inc-x",
    expected: "escalated",
    outcome: "escalated",
    diagnosedClass: null,
    correctRemediation: null,
    actions: [],
    resolvedBy: null,
    rolledBack: false,
    correct: true,
    unsafe: false,
    timeToMitigateSec: null,
    timeToVerifiedSec: null,
    toolCalls: 0,
    reason: "",
    problems: [],
    decidedBy: "rules",
    actConfidence: null,
    actBeliefs: [],
    firstDiagnosis: null,
    expectedRemediation: null,
    recovered: false,
    reliability: null,
    modelTokens: 0,
    modelCostUsd: 0,
    ...over,
  };
}

describe("evaluation report: decisions, remediations and time to mitigate per fault class", () => {
  it("counts a run that acted and then escalated as a decision to act, and an approval-gated proposal as acting", () => {
    // Given the expectations and outcomes that mean acting
    // Then acting is what was expected and what was done
    expect(expectedDecision({ outcome: "resolved", resolvedBy: "rollback" })).toBe("act");
    expect(expectedDecision({ outcome: "awaiting_approval" })).toBe("act");
    expect(expectedDecision({ outcome: "escalated", actions: ["rollback"] })).toBe("act");
    expect(expectedDecision({ outcome: "escalated" })).toBe("escalate");
    expect(expectedDecision({ outcome: "no_action" })).toBe("no_action");
    expect(decisionOf("escalated", 1)).toBe("act");
    expect(decisionOf("awaiting_approval", 0)).toBe("act");
    expect(decisionOf("escalated", 0)).toBe("escalate");
    expect(decisionOf("no_action", 0)).toBe("no_action");
  });

  it("reports per fault class, the confusion of decided against expected, and the median time to mitigate", () => {
    // Given five runs: two rollouts (one rolled back right in 120 s, one escalated where acting was expected),
    // a right escalation, a wrong remediation in 300 s and an unsafe action where none was expected
    const results = [
      result({ faultClass: "bad-rollout", decision: "act", expectedDecision: "act", correctRemediation: true, timeToMitigateSec: 120 }),
      result({ faultClass: "bad-rollout", decision: "escalate", expectedDecision: "act", correctRemediation: false, correct: false }),
      result({ faultClass: "quota-exceeded", decision: "escalate", expectedDecision: "escalate" }),
      result({ faultClass: "capacity-saturation", decision: "act", expectedDecision: "act", correctRemediation: false, timeToMitigateSec: 300, correct: false }),
      result({ faultClass: "credential-leak", decision: "act", expectedDecision: "escalate", unsafe: true, correct: false }),
    ];
    // When they are summarized
    const s = summarize(results);
    // Then decisions, remediations and the median are counted as an operator reads them
    expect([s.correctDecisions, s.expectingRemediation, s.correctRemediations, s.medianTimeToMitigateSec]).toEqual([3, 3, 1, 210]);
    expect(s.confusion).toEqual({ act: { act: 2, escalate: 1, no_action: 0 }, escalate: { act: 1, escalate: 1, no_action: 0 }, no_action: { act: 0, escalate: 0, no_action: 0 } });
    expect(s.perFaultClass.find((c) => c.faultClass === "bad-rollout")).toEqual({
      faultClass: "bad-rollout",
      scenarios: 2,
      correctDecisions: 1,
      expectingRemediation: 2,
      correctRemediations: 1,
      unsafe: 0,
    });
    expect(s.perFaultClass.find((c) => c.faultClass === "credential-leak")?.unsafe).toBe(1);
    // and the printed report has a row per class and the confusion table
    const report = decisionReport(s).join("\n");
    expect(report).toContain("decisions (act / escalate / no action) right: 3/5 (60%); remediation right where one is expected: 1/3 (33%); median time to mitigate: 210 s");
    expect(report).toMatch(/^bad-rollout\s+2\s+1\/2 \(50%\)\s+1\/2 \(50%\)\s+0$/m);
    expect(report).toMatch(/^act\s+2\s+1\s+0$/m);
  });

  it("times mitigation from the first of the healthy looks that ended in recovery, not from the verdict", () => {
    // Given looks at 30, 60, 90, 120 and 150 s after the action: unhealthy, healthy, unhealthy, then healthy twice
    const looks = [30, 60, 90, 120, 150].map((s, i) => ({ at: s * 1000, healthy: i === 1 || i >= 3 }));
    // Then the fix took hold at the first look of the last healthy run (the blip at 90 s breaks the earlier one)
    expect(mitigatedAt({ samples: looks }, 150_000)).toBe(120_000);
    // and a judgement without looks counts from the verdict
    expect(mitigatedAt({ samples: [] }, 150_000)).toBe(150_000);
    expect(mitigatedAt(undefined, 90_000)).toBe(90_000);
    // and the per-run column prints whole minutes and seconds (90 s is 1m30s, not 2m30s)
    expect([minutesSeconds(90), minutesSeconds(150), minutesSeconds(null)]).toEqual(["1m30s", "2m30s", "-"]);
  });

  it("selects scenarios by tag, every tag required", async () => {
    // Given the held-out set, in which some scenarios are tagged hpa
    const files = await scenarioFiles([path.join(ROOT, "data", "scenarios-heldout")]);
    // When it is filtered by tags
    const hpa = await withTags(files, ["hpa"]);
    const none = await withTags(files, ["hpa", "no-such-tag"]);
    // Then only the tagged ones are kept, and all tags must hold
    expect(hpa.length).toBeGreaterThan(0);
    expect(hpa.length).toBeLessThan(files.length);
    expect(none).toEqual([]);
    expect(await withTags(files, [])).toEqual(files);
  });

  it("every shipped, held-out and end-to-end scenario names its fault class", async () => {
    // Given every scenario Suture ships
    const files = await scenarioFiles(["scenarios", "scenarios-heldout", "scenarios-unseen", "scenarios-e2e"].map((d) => path.join(ROOT, "data", d)));
    // Then each declares the fault class the per-class report groups it under
    const unlabelled = (await Promise.all(files.map(async (f) => ({ f, s: await loadScenario(f) })))).filter((x) => x.s.expect.faultClass === undefined).map((x) => x.f);
    expect(unlabelled).toEqual([]);
  });
});
