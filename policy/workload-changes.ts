import type { ForeignAction } from "../store/actions.js";
import type { IncidentStore } from "../store/incident-store.js";
import type { UnsettledAction } from "../domain/model.js";

/** Where to look for changes another incident made to a workload this incident is about to act on. */
export interface UnseenChangeQuery {
  /** The incident's environment (null: it has none, so no other incident shares its workloads). */
  environmentId: string | null;
  namespace: string;
  service: string;
  incidentId: string;
  /** The newest action id the incident's evidence had seen (`context.actionWatermark`). */
  watermark: number;
  /** Other incidents' actions under way when the evidence was gathered (`context.unsettledActions`). */
  unsettled?: readonly UnsettledAction[];
}

/** A change to the workload this incident's evidence has not seen, and why it counts. */
export interface UnseenChange {
  action: ForeignAction;
  /** The action ran after the evidence was gathered, or was under way then and has moved on since. */
  how: "after" | "settled";
}

/**
 * A change another incident made to the workload that this incident's evidence has not seen, if
 * any: an action run after the evidence was gathered, or one that was under way then (granted,
 * running, or settling before its verification) and has moved on since. Acting on that evidence
 * would act on a world that no longer exists. An action that stays where it was (its incident
 * died mid-verify) does not count again, so perceiving again always converges.
 */
export async function unseenChange(store: IncidentStore, q: UnseenChangeQuery): Promise<UnseenChange | undefined> {
  if (q.environmentId === null) return undefined;
  const [newest] = await store.foreignActions({ environmentId: q.environmentId, namespace: q.namespace, services: [q.service], excludeIncident: q.incidentId, afterId: q.watermark });
  if (newest !== undefined) return { action: newest, how: "after" };
  const seen = (q.unsettled ?? []).filter((a) => a.service === q.service);
  const now = await store.actionsByIds(seen.map((a) => a.id));
  const moved = now.find((a) => {
    const then = seen.find((s) => s.id === a.id);
    return then !== undefined && (then.status !== a.status || then.verdict !== a.verdict);
  });
  return moved !== undefined ? { action: moved, how: "settled" } : undefined;
}

/** The reason to perceive again, for the timeline and the audit log. */
export function describeUnseenChange(change: UnseenChange, namespace: string): string {
  const { action } = change;
  const what = `${action.kind === "rollback" ? "the rollback " : ""}${action.tool}`;
  const outcome = action.verdict !== null ? `${action.status}, ${action.verdict.replace("_", " ")}` : action.status;
  return change.how === "after"
    ? `incident ${action.incidentId} ran ${what} on ${namespace}/${action.targetService} (${outcome}) after this incident gathered its evidence; perceiving again before acting`
    : `incident ${action.incidentId} ran ${what} on ${namespace}/${action.targetService} (${outcome}), which was still under way when this incident gathered its evidence; perceiving again before acting`;
}
