import type { Runtime } from "@langchain/langgraph";
import { targetEscalation } from "../domain/alerts/target.js";
import { finishIncident } from "../graphs/close-incident.js";
import { requireContext, type SutureContext } from "../graphs/context.js";
import type { IncidentStateUpdate, IncidentStateValue } from "../graphs/state.js";
import { escalatedUnexplained } from "../reasoners/likely-cause.js";

/** Why the incident reached escalate, from the last decision that sent it here. */
function escalationReason(state: IncidentStateValue): string {
  const notWorkload = targetEscalation(state.alert.target);
  // A rule that escalated an object alert says why; without one, the object is the reason.
  if (notWorkload !== undefined) return state.diagnosis?.chosen != null ? state.diagnosis.reason : notWorkload;
  const last = state.attempts[state.attempts.length - 1];
  if (last?.verdict === "worse") {
    return `attempt ${last.number} (${last.call.tool}) made things worse${last.rolledBack ? " and was rolled back" : ""}`;
  }
  // A non-allow verdict always comes straight here, so it is the reason when the last round chose to act.
  if (state.verdict !== null && state.verdict.outcome !== "allow" && state.diagnosis?.decision === "act") {
    const word = state.verdict.outcome === "deny" ? "denied" : "needs human approval";
    return `policy ${word} ${state.verdict.call.tool}: ${state.verdict.reasons.join("; ")}`;
  }
  if (last !== undefined && last.verdict === "not_recovered") {
    return `${state.attempts.length} attempt(s) did not recover the service and no untried remediation is left`;
  }
  const diagnosis = state.diagnosis;
  const reason = diagnosis?.reason ?? "escalated";
  const cause = diagnosis?.likelyCause;
  // "No rule matched" alone leaves the human where Suture started: say where the evidence points.
  if (diagnosis === null || cause === undefined || !escalatedUnexplained(diagnosis)) return reason;
  const first = cause.checkFirst[0];
  return `${reason}; likely cause: ${cause.faultClass}${first !== undefined ? ` — check first: ${first}` : ""}`;
}

/**
 * escalate: writes the brief (evidence chain, hypotheses with confidence, actions with
 * before/after signals, rollbacks, the proposal awaiting a human) and notifies.
 */
export async function escalate(state: IncidentStateValue, runtime: Runtime<SutureContext>): Promise<IncidentStateUpdate> {
  const ctx = requireContext(runtime);
  const now = ctx.clock.now();
  const reason = escalationReason(state);
  const entry = { node: "escalate", at: now, message: `escalated to a human: ${reason}` };
  const outcome = await finishIncident(ctx, { ...state, timeline: [...state.timeline, entry] }, { status: "escalated", reason, at: now });
  return { outcome, timeline: [entry] };
}
