import type { Alert } from "../alerts/alert.js";
import type { Attempt, Hypothesis, IncidentContext } from "../graphs/state.js";

/** Model tokens and estimated cost one reasoner call spent. */
export interface ModelUsage {
  modelTokens: number;
  modelCostUsd: number;
}

/** What a reasoner tells diagnose besides its hypotheses: notes for the brief, model usage. */
export interface ReasonerReport {
  notes?: string[];
  usage?: ModelUsage;
}

/** What a reasoner sees: the alert, the gathered context and what was already tried. */
export interface ReasonerInput {
  alert: Alert;
  context: IncidentContext;
  attempts: Attempt[];
  /** Receives notes and model usage for this call (per call, so one reasoner serves many incidents). */
  report?: (report: ReasonerReport) => void;
}

/** A source of hypotheses (runbook rules, incident memory, a model). */
export interface Reasoner {
  /** Short name shown in briefs, e.g. `rules`. */
  readonly name: string;
  diagnose(input: ReasonerInput): Promise<Hypothesis[]>;
}
