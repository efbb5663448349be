import type { ModelOutcome } from "../domain/self-calls.js";
import type { Alert } from "../domain/alerts/alert.js";
import type { Attempt, Hypothesis, IncidentContext } from "../domain/model.js";
import type { MemoryNeighbor } from "../memory/incident-memory.js";

/** Model tokens and estimated cost one reasoner call spent. */
export interface ModelUsage {
  modelTokens: number;
  modelCostUsd: number;
}

/** Model usage one reasoner reported, with the model it called. */
export interface ReportedUsage extends ModelUsage {
  model: string;
}

/** What a reasoner tells diagnose besides its hypotheses: notes for the brief, model usage. */
export interface ReasonerReport {
  notes?: string[];
  usage?: ReportedUsage;
  /** How a model call went (Suture's own health counts these), for reasoners that call a model. */
  call?: { model: string; outcome: ModelOutcome; ms: number };
}

/** What a reasoner sees: the alert, the gathered context and what was already tried. */
export interface ReasonerInput {
  alert: Alert;
  context: IncidentContext;
  attempts: Attempt[];
  /** The most similar past incidents (diagnose recalls them once for every reasoner). */
  recalled?: MemoryNeighbor[];
  /** Model tokens and cost this incident has spent so far, and the policy's budget for it. */
  budget?: { spent: ModelUsage; max: ModelUsage };
  /** Receives notes and model usage for this call (per call, so one reasoner serves many incidents). */
  report?: (report: ReasonerReport) => void;
}

/** A source of hypotheses (runbook rules, incident memory, a model). */
export interface Reasoner {
  /** Short name shown in briefs, e.g. `rules`. */
  readonly name: string;
  /**
   * True when asking again after a failed attempt can bring a new proposal (a model reading the
   * healing history); verify then replans even if the last diagnosis has no untried candidate.
   */
  readonly replans?: boolean;
  /** True when the reasoner asks a model: a `model_off` self-recovery leaves it out. */
  readonly usesModel?: boolean;
  diagnose(input: ReasonerInput): Promise<Hypothesis[]>;
}
