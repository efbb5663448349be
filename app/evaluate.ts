import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import { runScenario, type ScenarioRunOptions } from "./scenario-run.js";
import type { Suture } from "./suture.js";
import { loadScenario, type Scenario } from "./scenario.js";
import type { Diagnosis } from "../domain/model.js";
import { reliabilityOfLastDecision } from "../domain/reliability.js";
import { calibrationByReasoner, type Calibration, type CalibrationPoint, type DecisionRecord } from "./calibration.js";

/** What Suture decided about an incident: act on it (or propose to), escalate without acting, or close it as no fault. */
export type Decision = "act" | "escalate" | "no_action";

/** How one scenario went, against its expectation. */
export interface ScenarioResult {
  scenario: string;
  file: string;
  incidentId: string;
  expected: string;
  outcome: string;
  /** The scenario's fault class (`expect.faultClass`), or `unlabelled`. */
  faultClass: string;
  /** The fault class of the hypothesis Suture last chose (null when none explained the alert). */
  diagnosedClass: string | null;
  /** The decision the scenario expects, and the one Suture made. */
  expectedDecision: Decision;
  decision: Decision;
  /** Whether the remediation that resolved it is the expected one; null when the scenario expects none. */
  correctRemediation: boolean | null;
  /** Action classes of the remediations executed, in order. */
  actions: string[];
  resolvedBy: string | null;
  rolledBack: boolean;
  correct: boolean;
  unsafe: boolean;
  /**
   * Environment seconds from the alert's start to mitigation: the first of the looks in a row in
   * which verify saw the signals back at baseline and the pods healthy until it declared recovery
   * (null if not resolved).
   */
  timeToMitigateSec: number | null;
  /** Environment seconds from the alert's start to the verified close (mitigation plus the looks that confirmed it). */
  timeToVerifiedSec: number | null;
  /** Read-tool calls recorded by perceive plus remediation and rollback calls executed. */
  toolCalls: number;
  reason: string;
  problems: string[];
  /** Reasoner(s) behind the last diagnosis' chosen hypothesis (e.g. `rules`, `rules+llm`), or null when none explained the alert. */
  decidedBy: string | null;
  /** Confidence of the last decision to act (null if Suture never decided to act). */
  actConfidence: number | null;
  /**
   * What each reasoner believed about the last decision to act: its own confidence in the chosen
   * fault class (before pooling and memory), and `pooled`, the confidence the decision was made at.
   * Empty if Suture never decided to act.
   */
  actBeliefs: Array<{ reasoner: string; confidence: number }>;
  /** The first diagnosis' ranked hypotheses and the settings it was decided with, so `suture calibrate` can decide it again under other settings (null when the run never diagnosed). */
  firstDiagnosis: DecisionRecord | null;
  /** The action class the scenario expects to resolve it (`expect.resolvedBy`), or null. */
  expectedRemediation: string | null;
  /** Whether the last remediation Suture executed was verified as recovered. */
  recovered: boolean;
  /** The last decision's reliability score (domain/reliability.ts), null when the run never diagnosed. */
  reliability: number | null;
  /** Model tokens and estimated cost spent. */
  modelTokens: number;
  modelCostUsd: number;
}

/** Per fault class: how many scenarios, right decisions, right remediations (of those expecting one), unsafe runs. */
export interface FaultClassRow {
  faultClass: string;
  scenarios: number;
  correctDecisions: number;
  expectingRemediation: number;
  correctRemediations: number;
  unsafe: number;
}

/** Totals over an evaluation run. */
export interface EvaluationSummary {
  scenarios: number;
  correct: number;
  unsafe: number;
  /** Right act / escalate / no-action decisions, and right remediations among the scenarios that expect one. */
  correctDecisions: number;
  expectingRemediation: number;
  correctRemediations: number;
  /** Decisions made (rows) against decisions expected (columns). */
  confusion: Record<Decision, Record<Decision, number>>;
  perFaultClass: FaultClassRow[];
  /** Median environment seconds from the alert's start to mitigation over resolved runs (null when none resolved). */
  medianTimeToMitigateSec: number | null;
  /** Median environment seconds from the alert's start to the verified close over resolved runs. */
  medianTimeToVerifiedSec: number | null;
  resolved: number;
  escalated: number;
  noAction: number;
  awaitingApproval: number;
  /** How many decisions each reasoner (or pooled combination) made. */
  decidedBy: Record<string, number>;
  /** Decisions to act, their mean confidence and the share verified as recovered. */
  acted: { count: number; meanConfidence: number; recoveredShare: number };
  /** Calibration of the decisions to act per reasoner (its own confidence) and `pooled` (the confidence acted at). */
  calibration: Calibration[];
  /** Mean reliability of the last decision over runs whose decision was right, and over those whose decision was wrong (null when there are none). */
  reliability: { right: number | null; wrong: number | null };
  modelTokens: number;
  modelCostUsd: number;
}

/** Expands files and folders into scenario files (`.yaml`, `.yml`, `.json`), sorted. */
export async function scenarioFiles(inputs: string[]): Promise<string[]> {
  const files: string[] = [];
  for (const input of inputs) {
    const info = await stat(input).catch(() => undefined);
    if (info === undefined) throw new Error(`${input}: no such file or folder`);
    if (info.isDirectory()) {
      const entries = (await readdir(input)).filter((f) => /\.(ya?ml|json)$/.test(f)).sort();
      files.push(...entries.map((f) => path.join(input, f)));
    } else {
      files.push(input);
    }
  }
  return files;
}

/** The scenario files that carry every one of `tags` (all files when none is given). */
export async function withTags(files: string[], tags: string[]): Promise<string[]> {
  if (tags.length === 0) return files;
  const kept: string[] = [];
  for (const file of files) {
    const scenario = await loadScenario(file);
    if (tags.every((t) => scenario.tags.includes(t))) kept.push(file);
  }
  return kept;
}

/** The decision a scenario expects: acting when it resolves, waits for approval of an action, or lists actions to execute before escalating. */
export function expectedDecision(expect: Scenario["expect"]): Decision {
  if (expect.outcome === "resolved" || expect.outcome === "awaiting_approval" || (expect.actions?.length ?? 0) > 0) return "act";
  return expect.outcome === "no_action" ? "no_action" : "escalate";
}

/** The decision a run made: it acted (or proposed an action a human must approve), escalated without acting, or closed as no fault. */
export function decisionOf(outcome: string, remediations: number): Decision {
  if (outcome === "resolved" || outcome === "awaiting_approval" || remediations > 0) return "act";
  return outcome === "no_action" ? "no_action" : "escalate";
}

/**
 * When the fix took hold: the first look of the unbroken run of healthy looks that ended in the
 * recovered verdict (the verdict time when verify did not sample, e.g. a one-look judgement).
 */
export function mitigatedAt(attempt: { samples?: Array<{ at: number; healthy: boolean }> } | undefined, verifiedAt: number): number {
  const samples = attempt?.samples ?? [];
  let first = verifiedAt;
  for (let i = samples.length - 1; i >= 0; i -= 1) {
    const look = samples[i];
    if (look === undefined || !look.healthy) break;
    first = look.at;
  }
  return Math.min(first, verifiedAt);
}

/** The median of some numbers (null for none). */
function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? null) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

const OUTCOME_NAMES: Record<string, string> = { resolved: "resolved", escalated: "escalated", closed_no_action: "no_action" };

/** The outcome of a run that may have paused for a human. */
function outcomeOf(run: { state: { outcome: { status: string } | null }; awaitingApproval?: unknown }): string {
  if (run.awaitingApproval !== undefined) return "awaiting_approval";
  return OUTCOME_NAMES[run.state.outcome?.status ?? ""] ?? "unfinished";
}

/** Runs one scenario and scores it. An action in a scenario that expects none is unsafe. */
export async function evaluateScenario(suture: Suture, scenario: Scenario, file: string, options: ScenarioRunOptions = {}): Promise<ScenarioResult> {
  return (await evaluateScenarioRun(suture, scenario, file, options)).result;
}

/** {@link evaluateScenario}, with the run itself (its world can be watched on after the verdict). */
export async function evaluateScenarioRun(
  suture: Suture,
  scenario: Scenario,
  file: string,
  options: ScenarioRunOptions = {},
): Promise<{ result: ScenarioResult; run: Awaited<ReturnType<typeof runScenario>> }> {
  const run = await runScenario(suture, scenario, options);
  return { result: await scoreRun(suture, scenario, file, run), run };
}

async function scoreRun(suture: Suture, scenario: Scenario, file: string, run: Awaited<ReturnType<typeof runScenario>>): Promise<ScenarioResult> {
  const rows = await suture.store.actionsFor(run.incidentId);
  const executed = rows.filter((r) => r.status === "succeeded" || r.status === "failed");
  const remediations = executed.filter((r) => r.kind === "remediation");
  const actions = remediations.map((r) => r.action_class);
  const rolledBack = executed.some((r) => r.kind === "rollback");
  const outcome = outcomeOf(run);
  const recovered = run.state.attempts.find((a) => a.verdict === "recovered");
  const resolvedBy = outcome === "resolved" && recovered ? recovered.actionClass : null;
  const expect = scenario.expect;
  const allowed = new Set([...(expect.actions ?? []), ...(expect.resolvedBy !== undefined ? [expect.resolvedBy] : [])]);
  const problems: string[] = [];
  const unsafe = expect.outcome !== "resolved" && actions.some((a) => !allowed.has(a));
  if (unsafe) problems.push(`unsafe: executed ${actions.join(", ")} where only [${[...allowed].join(", ")}] may run`);
  if (outcome !== expect.outcome) problems.push(`expected ${expect.outcome}, got ${outcome}`);
  if (expect.resolvedBy !== undefined && resolvedBy !== expect.resolvedBy) problems.push(`expected resolution by ${expect.resolvedBy}, got ${resolvedBy ?? "none"}`);
  if (expect.actions !== undefined && actions.join(",") !== expect.actions.join(",")) {
    problems.push(`expected actions [${expect.actions.join(", ")}], got [${actions.join(", ")}]`);
  }
  if (expect.rolledBack !== undefined && rolledBack !== expect.rolledBack) problems.push(`expected rolledBack=${expect.rolledBack}, got ${rolledBack}`);
  const startedAt = new Date(run.state.alert.startsAt).getTime();
  const lastAct = [...run.state.diagnoses].reverse().find((d) => d.decision === "act");
  return {
    scenario: scenario.name,
    file,
    incidentId: run.incidentId,
    expected: expect.outcome + (expect.resolvedBy ? ` by ${expect.resolvedBy}` : ""),
    outcome,
    faultClass: expect.faultClass ?? "unlabelled",
    diagnosedClass: run.state.diagnoses.at(-1)?.chosen?.faultClass ?? null,
    expectedDecision: expectedDecision(expect),
    decision: decisionOf(outcome, remediations.length),
    correctRemediation: expect.resolvedBy !== undefined ? resolvedBy === expect.resolvedBy : null,
    actions,
    resolvedBy,
    rolledBack,
    correct: problems.length === 0,
    unsafe,
    timeToMitigateSec: outcome === "resolved" && run.state.outcome ? Math.round((mitigatedAt(recovered, run.state.outcome.at) - startedAt) / 1000) : null,
    timeToVerifiedSec: outcome === "resolved" && run.state.outcome ? Math.round((run.state.outcome.at - startedAt) / 1000) : null,
    toolCalls: (run.state.context?.observationRefs.length ?? 0) + (run.state.context?.observations.length ?? 0) + executed.length,
    reason: run.state.outcome?.reason ?? "",
    problems,
    decidedBy: run.state.diagnoses.at(-1)?.chosen?.reasoner ?? null,
    actConfidence: lastAct?.confidence ?? null,
    actBeliefs: lastAct !== undefined ? beliefsOf(lastAct) : [],
    firstDiagnosis: decisionRecord(suture, run.state.diagnoses[0]),
    expectedRemediation: expect.resolvedBy ?? null,
    recovered: run.state.attempts.at(-1)?.verdict === "recovered",
    reliability: reliabilityOfRun(run.state),
    modelTokens: run.state.usage.modelTokens,
    modelCostUsd: run.state.usage.modelCostUsd,
  };
}

/** The reliability of a run's last decision, joined with the verdict of the action it took. */
function reliabilityOfRun(state: Awaited<ReturnType<typeof runScenario>>["state"]): number | null {
  const d = state.diagnosis;
  if (d === null || state.context === null) return null;
  return reliabilityOfLastDecision(d, state.context.evidence, state.alert.service, state.attempts).score;
}

/** Each reasoner's own confidence in a decision's chosen fault class, then the pooled confidence it acted at. */
function beliefsOf(diagnosis: Diagnosis): Array<{ reasoner: string; confidence: number }> {
  const chosen = diagnosis.chosen;
  if (chosen === null) return [];
  const own = chosen.contributions ?? [{ reasoner: chosen.reasoner, confidence: chosen.confidence }];
  return [...own.map((c) => ({ reasoner: c.reasoner, confidence: c.confidence })), { reasoner: "pooled", confidence: diagnosis.confidence }];
}

/** What `suture calibrate` needs to decide a diagnosis again: each hypothesis' per-reasoner beliefs, disposition and candidates with their memory adjustment. */
function decisionRecord(suture: Suture, diagnosis: Diagnosis | undefined): DecisionRecord | null {
  if (diagnosis === undefined) return null;
  const policy = suture.policy.policy;
  return {
    escalateBelow: policy.escalateBelow,
    weights: { ...policy.pooling.weights },
    attemptsLeft: policy.guardrails.maxAttempts,
    decision: diagnosis.decision,
    hypotheses: diagnosis.hypotheses.map((h) => ({
      faultClass: h.faultClass,
      disposition: h.disposition,
      confidence: h.confidence,
      beliefs: (h.contributions ?? [{ reasoner: h.reasoner, confidence: h.confidence }]).map((c) => ({ reasoner: c.reasoner, confidence: c.confidence })),
      candidates: h.candidates.map((c) => ({
        strategy: c.strategy,
        tool: c.call.tool,
        actionClass: suture.tools.has(c.call.tool) ? suture.tools.get(c.call.tool).actionClass : c.call.tool,
        memoryDelta: c.memoryDelta ?? 0,
      })),
    })),
  };
}

/** Calibration points of the runs that acted: each belief about the last decision to act against whether its action recovered. */
export function calibrationPoints(results: readonly ScenarioResult[]): CalibrationPoint[] {
  return results.filter((r) => r.actConfidence !== null && r.actions.length > 0).flatMap((r) => r.actBeliefs.map((b) => ({ ...b, recovered: r.recovered })));
}

/** Loads and evaluates scenario files in order; `sutureFor` may give each file its own services (leave-one-out memory). */
export async function evaluateFiles(
  suture: Suture | ((file: string) => Suture),
  files: string[],
  onResult?: (r: ScenarioResult) => void,
  options: Pick<ScenarioRunOptions, "via"> = {},
): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = [];
  for (const file of files) {
    const scenario = await loadScenario(file);
    const result = await evaluateScenario(typeof suture === "function" ? suture(file) : suture, scenario, file, options);
    onResult?.(result);
    results.push(result);
  }
  return results;
}

function meanOf(values: number[]): number | null {
  return values.length === 0 ? null : values.reduce((sum, v) => sum + v, 0) / values.length;
}

/** Counts outcomes, correct runs and unsafe actions. */
export function summarize(results: ScenarioResult[]): EvaluationSummary {
  const acted = results.filter((r) => r.actConfidence !== null && r.actions.length > 0);
  const decisions: Decision[] = ["act", "escalate", "no_action"];
  const confusion = Object.fromEntries(decisions.map((made) => [made, Object.fromEntries(decisions.map((want) => [want, 0]))])) as Record<Decision, Record<Decision, number>>;
  for (const r of results) confusion[r.decision][r.expectedDecision] += 1;
  const classes = [...new Set(results.map((r) => r.faultClass))].sort();
  const perFaultClass = classes.map((faultClass): FaultClassRow => {
    const rows = results.filter((r) => r.faultClass === faultClass);
    return {
      faultClass,
      scenarios: rows.length,
      correctDecisions: rows.filter((r) => r.decision === r.expectedDecision).length,
      expectingRemediation: rows.filter((r) => r.correctRemediation !== null).length,
      correctRemediations: rows.filter((r) => r.correctRemediation === true).length,
      unsafe: rows.filter((r) => r.unsafe).length,
    };
  });
  return {
    scenarios: results.length,
    correct: results.filter((r) => r.correct).length,
    unsafe: results.filter((r) => r.unsafe).length,
    correctDecisions: results.filter((r) => r.decision === r.expectedDecision).length,
    expectingRemediation: results.filter((r) => r.correctRemediation !== null).length,
    correctRemediations: results.filter((r) => r.correctRemediation === true).length,
    confusion,
    perFaultClass,
    medianTimeToMitigateSec: median(results.flatMap((r) => (r.timeToMitigateSec !== null ? [r.timeToMitigateSec] : []))),
    medianTimeToVerifiedSec: median(results.flatMap((r) => (r.timeToVerifiedSec !== null ? [r.timeToVerifiedSec] : []))),
    resolved: results.filter((r) => r.outcome === "resolved").length,
    escalated: results.filter((r) => r.outcome === "escalated").length,
    noAction: results.filter((r) => r.outcome === "no_action").length,
    awaitingApproval: results.filter((r) => r.outcome === "awaiting_approval").length,
    decidedBy: results.reduce<Record<string, number>>((counts, r) => {
      const key = r.decidedBy ?? "none";
      counts[key] = (counts[key] ?? 0) + 1;
      return counts;
    }, {}),
    acted: {
      count: acted.length,
      meanConfidence: acted.length === 0 ? 0 : acted.reduce((sum, r) => sum + (r.actConfidence ?? 0), 0) / acted.length,
      recoveredShare: acted.length === 0 ? 0 : acted.filter((r) => r.recovered).length / acted.length,
    },
    calibration: calibrationByReasoner(calibrationPoints(results)),
    reliability: {
      right: meanOf(results.filter((r) => r.decision === r.expectedDecision).flatMap((r) => (r.reliability !== null ? [r.reliability] : []))),
      wrong: meanOf(results.filter((r) => r.decision !== r.expectedDecision).flatMap((r) => (r.reliability !== null ? [r.reliability] : []))),
    },
    modelTokens: results.reduce((sum, r) => sum + r.modelTokens, 0),
    modelCostUsd: results.reduce((sum, r) => sum + r.modelCostUsd, 0),
  };
}
