import type { Alert } from "../alerts/alert.js";
import type { Attempt, Hypothesis, IncidentContext } from "../graphs/state.js";

/** What a reasoner sees: the alert, the gathered context and what was already tried. */
export interface ReasonerInput {
  alert: Alert;
  context: IncidentContext;
  attempts: Attempt[];
}

/** A source of hypotheses (runbook rules, incident memory, a model). */
export interface Reasoner {
  /** Short name shown in briefs, e.g. `rules`. */
  readonly name: string;
  diagnose(input: ReasonerInput): Promise<Hypothesis[]>;
}
