import { readFile } from "node:fs/promises";
import { stringify } from "yaml";
import { z } from "zod";
import type { Hypothesis } from "../domain/model.js";
import { InvalidInputError } from "../domain/errors.js";
import { choose } from "../nodes/diagnose.js";
import { poolConfidence } from "../reasoners/combine.js";
import type { DecisionRecord } from "./calibration.js";
import type { Decision, ScenarioResult } from "./evaluate.js";

/** What calibration reads of a scored run. */
export type RecordedRun = Pick<ScenarioResult, "scenario" | "decision" | "expectedDecision" | "unsafe" | "correctRemediation" | "expectedRemediation" | "firstDiagnosis">;

const DecisionEnum = z.enum(["act", "escalate", "no_action"]);
const DecisionRecordSchema = z.object({
  escalateBelow: z.number().min(0).max(1),
  weights: z.record(z.string(), z.number()),
  attemptsLeft: z.number().int(),
  decision: z.enum(["act", "escalate", "no-action"]),
  hypotheses: z.array(
    z.object({
      faultClass: z.string(),
      disposition: z.enum(["act", "no-action", "escalate"]),
      confidence: z.number().min(0).max(1),
      beliefs: z.array(z.object({ reasoner: z.string(), confidence: z.number().min(0).max(1) })).min(1),
      candidates: z.array(z.object({ strategy: z.string(), tool: z.string(), actionClass: z.string(), memoryDelta: z.number() })),
    }),
  ),
});
/** The part of a `suture eval --json` file calibration reads. */
export const EvaluationResultsFileSchema = z.object({
  results: z.array(
    z.object({
      scenario: z.string(),
      decision: DecisionEnum,
      expectedDecision: DecisionEnum,
      unsafe: z.boolean(),
      correctRemediation: z.boolean().nullable(),
      expectedRemediation: z.union([z.string(), z.null()], "expected the action class the scenario expects, or null (results written by an older Suture lack it: evaluate again)"),
      firstDiagnosis: z.union([DecisionRecordSchema, z.null()], "expected the first diagnosis' record, or null (results written by an older Suture lack it: evaluate again)"),
    }),
  ),
});

/** Reads a `suture eval --json` file, naming the file and the field when it is not one. */
export async function readEvaluationResults(file: string): Promise<RecordedRun[]> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, "utf8"));
  } catch (error) {
    throw new InvalidInputError(`${file}: not a JSON file written by \`suture eval --json\`: ${(error as Error).message}`);
  }
  const parsed = EvaluationResultsFileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InvalidInputError(`${file}: ${issue?.path.join(".") ?? ""}: ${issue?.message ?? "invalid"}`);
  }
  return parsed.data.results;
}

/** What `suture calibrate` fits: the least confidence to act (`escalateBelow`) and the reasoners' pooling weights. */
export interface DecisionSettings {
  escalateBelow: number;
  weights: Record<string, number>;
}

/** How a set of recorded runs would have gone under some settings. */
export interface SettingsScore {
  scenarios: number;
  /** Runs whose first diagnosis, decided again under the settings it was made with, gives the recorded decision (the others keep theirs). */
  reproduced: number;
  correctDecisions: number;
  unsafe: number;
  expectingRemediation: number;
  correctRemediations: number;
  /** Runs whose decision differs from the recorded one. */
  changed: number;
}

/** A fit: the settings chosen on one split, and both splits scored under the recorded and the fitted settings. */
export interface CalibrationFit {
  current: DecisionSettings;
  fitted: DecisionSettings;
  candidatesTried: number;
  fit: { before: SettingsScore; after: SettingsScore };
  report: { before: SettingsScore; after: SettingsScore };
}

/** The `escalateBelow` values tried, 0.50 to 0.90 by 0.05. */
export const THRESHOLD_GRID = [0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9];
/** The weights tried for each reasoner other than the rules (the rules keep theirs: they anchor the scale). */
export const WEIGHT_GRID = [0.2, 0.4, 0.6, 0.8, 1];

const DECISION: Record<DecisionRecord["decision"], Decision> = { act: "act", escalate: "escalate", "no-action": "no_action" };

/**
 * Decides a recorded diagnosis again under `settings`: re-pools each hypothesis' beliefs with the
 * weights, re-applies memory's recorded adjustment to each candidate, and chooses as diagnose does.
 * Returns the decision and, when acting, the action class of the chosen candidate.
 */
export function redecide(record: DecisionRecord, settings: DecisionSettings): { decision: Decision; actionClass: string | null } {
  const hypotheses: Hypothesis[] = record.hypotheses.map((h, i) => {
    const confidence = h.beliefs.length > 1 ? poolConfidence(h.beliefs, settings.weights) : h.confidence;
    return {
      id: `${h.faultClass}-${i}`,
      faultClass: h.faultClass,
      category: "",
      title: h.faultClass,
      confidence,
      evidenceIds: [],
      reasoner: h.beliefs.map((b) => b.reasoner).join("+"),
      disposition: h.disposition,
      explanation: "",
      candidates: h.candidates
        .map((c) => ({ call: { tool: c.tool, params: {} }, rationale: c.actionClass, strategy: c.strategy, confidence: Math.max(0, Math.min(0.99, confidence + c.memoryDelta)) }))
        .sort((a, b) => b.confidence - a.confidence),
    };
  });
  hypotheses.sort((a, b) => b.confidence - a.confidence || a.id.localeCompare(b.id));
  const choice = choose(hypotheses, new Set(), settings.escalateBelow, record.attemptsLeft);
  return { decision: DECISION[choice.decision], actionClass: choice.decision === "act" ? (choice.proposal?.rationale ?? null) : null };
}

/**
 * Scores recorded runs under `settings`. A run whose first diagnosis does not reproduce its
 * recorded decision under the settings it was made with (the policy denied, another round
 * decided) keeps its recorded decision and scoring; so does one whose decision does not change.
 * A run that now decides differently is scored against its expectation: acting where the
 * scenario expects no action is unsafe; the remediation is right when its action class is the
 * one the scenario expects (whether it would have verified is not known offline).
 */
export function scoreSettings(results: readonly RecordedRun[], settings: DecisionSettings): SettingsScore {
  const score: SettingsScore = { scenarios: results.length, reproduced: 0, correctDecisions: 0, unsafe: 0, expectingRemediation: 0, correctRemediations: 0, changed: 0 };
  for (const r of results) {
    const record = r.firstDiagnosis;
    const reproduces = record !== null && redecide(record, { escalateBelow: record.escalateBelow, weights: record.weights }).decision === r.decision;
    if (reproduces) score.reproduced += 1;
    const now = reproduces ? redecide(record, settings) : undefined;
    if (r.expectedRemediation !== null) score.expectingRemediation += 1;
    if (now === undefined || now.decision === r.decision) {
      if (r.decision === r.expectedDecision) score.correctDecisions += 1;
      if (r.unsafe) score.unsafe += 1;
      if (r.correctRemediation === true) score.correctRemediations += 1;
      continue;
    }
    score.changed += 1;
    if (now.decision === r.expectedDecision) score.correctDecisions += 1;
    if (now.decision === "act" && r.expectedDecision !== "act") score.unsafe += 1;
    if (now.decision === "act" && r.expectedRemediation !== null && now.actionClass === r.expectedRemediation) score.correctRemediations += 1;
  }
  return score;
}

/** Every combination of the grids for the reasoners the runs recorded (the rules' weight stays). */
function candidateSettings(current: DecisionSettings, reasoners: readonly string[]): DecisionSettings[] {
  let weightSets: Array<Record<string, number>> = [{ ...current.weights }];
  for (const reasoner of reasoners.filter((r) => r !== "rules")) {
    weightSets = weightSets.flatMap((w) => WEIGHT_GRID.map((value) => ({ ...w, [reasoner]: value })));
  }
  return THRESHOLD_GRID.flatMap((escalateBelow) => weightSets.map((weights) => ({ escalateBelow, weights })));
}

/** How far settings are from the current ones (ties go to the smaller change). */
function distance(a: DecisionSettings, b: DecisionSettings): number {
  const names = new Set([...Object.keys(a.weights), ...Object.keys(b.weights)]);
  return Math.abs(a.escalateBelow - b.escalateBelow) + [...names].reduce((sum, n) => sum + Math.abs((a.weights[n] ?? 0.5) - (b.weights[n] ?? 0.5)), 0);
}

/**
 * Fits `escalateBelow` and the pooling weights on `fitOn`: the settings with the most right
 * decisions that add no unsafe run there, then more right remediations, then the least change;
 * scores `reportOn` under the recorded and the fitted settings. Both sets must have been
 * evaluated with the same settings.
 */
export function fitSettings(fitOn: readonly RecordedRun[], reportOn: readonly RecordedRun[]): CalibrationFit {
  const recorded = [...fitOn, ...reportOn].flatMap((r) => (r.firstDiagnosis !== null ? [r.firstDiagnosis] : []));
  const first = recorded[0];
  if (first === undefined) throw new Error("no diagnosis recorded in the evaluation results: run `suture eval … --json <file>` with this version of Suture");
  const current: DecisionSettings = { escalateBelow: first.escalateBelow, weights: { ...first.weights } };
  const other = recorded.find((d) => d.escalateBelow !== current.escalateBelow || JSON.stringify(d.weights) !== JSON.stringify(current.weights));
  if (other !== undefined) {
    throw new Error(
      `the evaluation results were decided under different settings (escalateBelow ${current.escalateBelow} ${JSON.stringify(current.weights)} and ${other.escalateBelow} ${JSON.stringify(other.weights)}); evaluate both sets with one policy`,
    );
  }
  const reasoners = [...new Set(recorded.flatMap((d) => d.hypotheses.flatMap((h) => h.beliefs.map((b) => b.reasoner))))].sort();
  const before = scoreSettings(fitOn, current);
  const candidates = candidateSettings(current, reasoners);
  let best = { settings: current, score: before };
  for (const settings of candidates) {
    const score = scoreSettings(fitOn, settings);
    if (score.unsafe > before.unsafe) continue;
    const better =
      score.correctDecisions > best.score.correctDecisions ||
      (score.correctDecisions === best.score.correctDecisions &&
        (score.correctRemediations > best.score.correctRemediations ||
          (score.correctRemediations === best.score.correctRemediations && score.unsafe <= best.score.unsafe && distance(settings, current) < distance(best.settings, current))));
    if (better) best = { settings, score };
  }
  return {
    current,
    fitted: best.settings,
    candidatesTried: candidates.length,
    fit: { before, after: best.score },
    report: { before: scoreSettings(reportOn, current), after: scoreSettings(reportOn, best.settings) },
  };
}

/** The proposal as a policy fragment for a human to review and merge into the policy file; nothing reads it by itself. */
export function proposalYaml(fit: CalibrationFit, sources: { fitOn: string; reportOn: string }): string {
  const header = [
    `# Proposed by \`suture calibrate\` on ${new Date().toISOString()}: fitted on ${sources.fitOn}, reported on ${sources.reportOn}.`,
    `# Report set: decisions right ${fit.report.before.correctDecisions} → ${fit.report.after.correctDecisions} of ${fit.report.after.scenarios}, unsafe ${fit.report.before.unsafe} → ${fit.report.after.unsafe}.`,
    "# Review it; nothing reads this file. To apply it, copy these keys into the policy file (SUTURE_POLICY) and check it with `suture policy check`.",
  ];
  return `${header.join("\n")}\n${stringify({ escalateBelow: fit.fitted.escalateBelow, pooling: { weights: fit.fitted.weights } })}`;
}
