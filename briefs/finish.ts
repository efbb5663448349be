import type { SutureContext } from "../graphs/context.js";
import type { IncidentStateValue, Outcome } from "../graphs/state.js";
import { buildBrief } from "./brief.js";

/**
 * Closes an incident: stores its status and brief, appends the outcome to the audit log and
 * notifies. Idempotent, so a terminal node that runs again after a crash writes the same thing.
 */
export async function finishIncident(ctx: SutureContext, state: IncidentStateValue, outcome: Outcome): Promise<Outcome> {
  const brief = buildBrief(state, outcome);
  await ctx.store.setIncidentStatus(state.incidentId, outcome.status, outcome.reason, brief);
  await ctx.store.audit({
    incidentId: state.incidentId,
    actor: "suture",
    kind: outcome.status,
    summary: outcome.reason,
    detail: { outcome },
    envTime: outcome.at,
    dedupeKey: `${state.incidentId}:outcome`,
  });
  if (outcome.status !== "closed_no_action") {
    await ctx.notifier.notify({
      incidentId: state.incidentId,
      status: outcome.status,
      title: `${state.alert.name} on ${state.alert.service}`,
      reason: outcome.reason,
      service: state.alert.service,
    });
  }
  return outcome;
}
