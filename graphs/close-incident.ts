import type { SutureContext } from "./context.js";
import type { Outcome } from "../domain/model.js";
import type { IncidentStateValue } from "./state.js";
import type { ToolCall } from "../domain/model.js";
import { proposalVerdicts } from "../policy/verdicts.js";
import { buildBrief } from "./brief.js";

/**
 * Remembers the incident; a memory failure is audited, never fails the incident. A replay is
 * never remembered: it re-lives an incident (on a copy of its world, or stopping before any
 * action), so its outcome is not experience of production.
 */
async function rememberIncident(ctx: SutureContext, state: IncidentStateValue, outcome: Outcome): Promise<void> {
  const incident = await ctx.store.getIncident(state.incidentId);
  if (incident.forked_from !== null) return;
  try {
    await ctx.memory.remember({
      incidentId: state.incidentId,
      alert: state.alert,
      context: state.context,
      outcome,
      attempts: state.attempts,
      faultClass: state.diagnosis?.chosen?.faultClass ?? null,
    });
  } catch (error) {
    await ctx.store.audit({
      incidentId: state.incidentId,
      actor: "memory",
      kind: "memory_error",
      summary: `could not remember the incident: ${(error as Error).message}`,
      envTime: outcome.at,
      dedupeKey: `${state.incidentId}:memory-error`,
    });
  }
}

/**
 * Closes an incident: stores its status and brief, appends the outcome to the audit log and
 * notifies. Idempotent, so a terminal node that runs again after a crash writes the same thing.
 */
export async function finishIncident(ctx: SutureContext, state: IncidentStateValue, outcome: Outcome): Promise<Outcome> {
  const brief = buildBrief(state, outcome, await proposalVerdicts(ctx.store, state.incidentId));
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
  await rememberIncident(ctx, state, outcome);
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

/**
 * Ends a dry-run replay where it would have acted: closed without action, saying what it would
 * have executed. A dry run never executes, whoever approves it and however it is resumed.
 */
export async function finishDryRun(ctx: SutureContext, state: IncidentStateValue, call: ToolCall): Promise<Outcome> {
  return finishIncident(ctx, state, { status: "closed_no_action", reason: `dry run stopped before act: would execute ${call.tool} ${JSON.stringify(call.params)}`, at: ctx.clock.now() });
}
