import type { ForeignAction } from "../store/actions.js";
import type { IncidentStore } from "../store/incident-store.js";

/** Where to look for changes another incident made to a workload this incident is about to act on. */
export interface UnseenChangeQuery {
  /** The incident's environment (null: it has none, so no other incident shares its workloads). */
  environmentId: string | null;
  namespace: string;
  service: string;
  incidentId: string;
  /** The newest action id the incident's evidence had seen (`context.actionWatermark`). */
  watermark: number;
}

/**
 * The newest action another incident ran on the workload after this incident's evidence was
 * gathered, if any: acting on that evidence would act on a world that no longer exists.
 */
export async function unseenChange(store: IncidentStore, q: UnseenChangeQuery): Promise<ForeignAction | undefined> {
  if (q.environmentId === null) return undefined;
  const [newest] = await store.foreignActions({ environmentId: q.environmentId, namespace: q.namespace, services: [q.service], excludeIncident: q.incidentId, afterId: q.watermark });
  return newest;
}

/** The reason to perceive again, for the timeline and the audit log. */
export function describeUnseenChange(change: ForeignAction, namespace: string): string {
  const what = `${change.kind === "rollback" ? "the rollback " : ""}${change.tool}`;
  return `incident ${change.incidentId} ran ${what} on ${namespace}/${change.targetService} (${change.status}) after this incident gathered its evidence; perceiving again before acting`;
}
