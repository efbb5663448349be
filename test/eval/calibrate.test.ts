import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { fitSettings, readEvaluationResults, redecide, scoreSettings, type RecordedRun } from "../../app/calibrate.js";
import type { DecisionRecord } from "../../app/calibration.js";
import { REASONER_WEIGHTS } from "../../reasoners/combine.js";
import { runCli } from "../helpers/cli.js";

/** A first diagnosis with one actionable hypothesis that the rules and the model both proposed. */
function pooledRecord(rules: number, llm: number, actionClass = "rollback"): DecisionRecord {
  return {
    escalateBelow: 0.7,
    weights: { ...REASONER_WEIGHTS },
    attemptsLeft: 3,
    decision: "act",
    hypotheses: [
      {
        faultClass: "bad-rollout",
        disposition: "act",
        confidence: 0,
        beliefs: [
          { reasoner: "rules", confidence: rules },
          { reasoner: "llm", confidence: llm },
        ],
        candidates: [{ strategy: `rollout_undo:api`, tool: "rollout_undo", actionClass, memoryDelta: 0 }],
      },
    ],
  };
}

/** A recorded run: its first diagnosis, the decision it made (from that diagnosis under the recorded settings) and what the scenario expected. */
function run(record: DecisionRecord, expected: RecordedRun["expectedDecision"], expectedRemediation: string | null = null): RecordedRun {
  const made = redecide(record, { escalateBelow: record.escalateBelow, weights: record.weights });
  return {
    scenario: `s-${Math.random().toString(36).slice(2, 8)}`,
    decision: made.decision,
    expectedDecision: expected,
    unsafe: made.decision === "act" && expected !== "act",
    correctRemediation: expectedRemediation === null ? null : made.decision === "act" && made.actionClass === expectedRemediation,
    expectedRemediation,
    firstDiagnosis: record,
  };
}

describe("suture calibrate: fitting escalateBelow and the pooling weights on one set, reporting on another", () => {
  it("decides a recorded diagnosis again: a model that agrees weakly pulls the pooled confidence below the threshold unless its weight drops", () => {
    // Given rules at 0.8 and a model at 0.4 on the same fault class
    const record = pooledRecord(0.8, 0.4);
    // When decided under the default weights (llm 0.6) and with the model's weight at 0.2
    // Then the first escalates (sigmoid(logit 0.8 + 0.6·logit 0.4) ≈ 0.75, below 0.76) and the second acts with the rollback (≈ 0.78)
    const base = redecide(record, { escalateBelow: 0.76, weights: { rules: 1, llm: 0.6 } });
    const lighter = redecide(record, { escalateBelow: 0.76, weights: { rules: 1, llm: 0.2 } });
    expect(base.decision).toBe("escalate");
    expect(lighter).toEqual({ decision: "act", actionClass: "rollback" });
  });

  it("fits settings that make more decisions right without one more unsafe run, and reports them on the other set", () => {
    // Given runs where the model's weak agreement made Suture escalate right fixes, and one where acting would be unsafe
    const fitOn = [run(pooledRecord(0.75, 0.3), "act", "rollback"), run(pooledRecord(0.75, 0.25), "act", "rollback"), run(pooledRecord(0.6, 0.3), "escalate")];
    const reportOn = [run(pooledRecord(0.75, 0.3), "act", "rollback"), run(pooledRecord(0.55, 0.5), "escalate")];
    // When the settings are fitted
    const fit = fitSettings(fitOn, reportOn);
    // Then the fit set gains its two right rollbacks and stays at 0 unsafe
    expect(fit.fit.before).toMatchObject({ correctDecisions: 1, unsafe: 0, reproduced: 3 });
    expect(fit.fit.after).toMatchObject({ correctDecisions: 3, unsafe: 0, correctRemediations: 2 });
    // And on the report set the rollback is now right, and the run that must escalate still does
    expect(fit.report.before.correctDecisions).toBe(1);
    expect(fit.report.after).toMatchObject({ correctDecisions: 2, unsafe: 0 });
    expect(fit.fitted.weights["rules"]).toBe(1);
  });

  it("keeps the recorded decision of a run whose first diagnosis does not reproduce it (the policy denied it)", () => {
    // Given a run the diagnosis decided to act on but the policy denied: it escalated
    const denied: RecordedRun = { ...run(pooledRecord(0.9, 0.9), "escalate"), decision: "escalate", unsafe: false };
    // When scored under settings that would act
    const score = scoreSettings([denied], { escalateBelow: 0.5, weights: { rules: 1, llm: 1 } });
    // Then it is not decided again: it stays a right escalation
    expect(score).toMatchObject({ reproduced: 0, correctDecisions: 1, unsafe: 0, changed: 0 });
  });

  it("writes a proposal for a human through the CLI, and refuses one file, an existing --out and results without diagnoses", async () => {
    // Given two evaluation result files
    const dir = await mkdtemp(path.join(tmpdir(), "suture-calibrate-"));
    const fitFile = path.join(dir, "fit.json");
    const reportFile = path.join(dir, "report.json");
    await writeFile(fitFile, JSON.stringify({ results: [run(pooledRecord(0.75, 0.3), "act", "rollback"), run(pooledRecord(0.6, 0.3), "escalate")] }));
    await writeFile(reportFile, JSON.stringify({ results: [run(pooledRecord(0.75, 0.25), "act", "rollback")] }));
    // When calibrate runs with --out
    const out = path.join(dir, "proposal.yaml");
    const ok = await runCli(["calibrate", fitFile, reportFile, "--out", out], { SUTURE_HOME: dir });
    // Then it prints both sets before and after and writes a policy fragment that says nothing reads it
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/report\s+recorded\s+decisions right 0\/1, unsafe 0[^\n]*\n\s+fitted\s+decisions right 1\/1, unsafe 0/);
    const proposal = await readFile(out, "utf8");
    expect(proposal).toContain("nothing reads this file");
    expect(proposal).toMatch(/escalateBelow: 0\.\d+\npooling:\n {2}weights:\n {4}rules: 1\n {4}llm: 0\.\d/);
    // And it refuses one file, an existing --out, and results written without the first diagnosis, naming what is wrong
    expect((await runCli(["calibrate", fitFile], { SUTURE_HOME: dir })).stderr).toContain("expected two evaluation results");
    expect((await runCli(["calibrate", fitFile, reportFile, "--out", out], { SUTURE_HOME: dir })).stderr).toContain("the file exists");
    await writeFile(reportFile, JSON.stringify({ results: [{ scenario: "x", decision: "act", expectedDecision: "act", unsafe: false, correctRemediation: true }] }));
    await expect(readEvaluationResults(reportFile)).rejects.toThrow(/results\.0\.expectedRemediation: expected the action class/);
  }, 60_000);
});
