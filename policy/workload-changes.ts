import type { ForeignAction } from "../store/actions.js";
import type { IncidentStore } from "../store/incident-store.js";
import type { UnsettledAction } from "../domain/model.js";
import { ConflictError } from "../domain/errors.js";
import type { Continuation } from "../domain/settle.js";
import type { Clock } from "../domain/clock.js";
import { effectiveSettleSeconds, type Policy } from "./schema.js";
import type { AnyToolDefinition } from "../tools/tool.js";

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

/** The reason to perceive again, for the timeline and the audit log (`before` what: acting, or closing the incident without acting). */
export function describeUnseenChange(change: UnseenChange, namespace: string, before: "acting" | "concluding" = "acting"): string {
  const { action } = change;
  const what = `${action.kind === "rollback" ? "the rollback " : ""}${action.tool}`;
  const outcome = action.verdict !== null ? `${action.status}, ${action.verdict.replace("_", " ")}` : action.status;
  return change.how === "after"
    ? `incident ${action.incidentId} ran ${what} on ${namespace}/${action.targetService} (${outcome}) after this incident gathered its evidence; perceiving again before ${before}`
    : `incident ${action.incidentId} ran ${what} on ${namespace}/${action.targetService} (${outcome}), which was still under way when this incident gathered its evidence; perceiving again before ${before}`;
}

/**
 * Thrown by policy-check when another incident's action on the target workload is still settling
 * (on the wall clock that incident waits in the queue and holds no lock): no verdict is made on a
 * workload mid-change. The job ends and `continuation` runs policy-check again once it settled.
 */
export class WorkloadSettlingError extends ConflictError {
  constructor(
    message: string,
    readonly continuation: Continuation,
  ) {
    super(message);
    this.name = "WorkloadSettlingError";
  }
}

/** How long after its settle deadline a settling action's own verification is given before looking again. */
const VERIFY_GRACE_MS = 2_000;

/**
 * On a real-time clock, another open incident's executed and not yet verified action on the
 * workload holds it like the workload lock would: throws {@link WorkloadSettlingError} to look
 * again shortly after that action's settle deadline. A simulated clock needs nothing (verify
 * sleeps within the run that holds the lock).
 */
export async function assertWorkloadNotSettling(
  store: IncidentStore,
  clock: Clock,
  q: { environmentId: string | null; namespace: string; service: string; incidentId: string; policy: Policy; tool: (name: string) => AnyToolDefinition | undefined },
): Promise<void> {
  if (!clock.realTime || q.environmentId === null) return;
  const [settling] = await store.settlingForeignActions({ environmentId: q.environmentId, namespace: q.namespace, service: q.service, excludeIncident: q.incidentId });
  if (settling === undefined) return;
  const tool = q.tool(settling.tool);
  const deadline = settling.executedAt.getTime() + (tool !== undefined ? effectiveSettleSeconds(q.policy, tool) : 0) * 1000;
  const until = new Date(Math.max(deadline, clock.now()) + VERIFY_GRACE_MS);
  throw new WorkloadSettlingError(
    `workload ${q.namespace}/${q.service}: incident ${settling.incidentId}'s ${settling.tool} is settling and not verified yet; this incident looks again at ${until.toISOString()}`,
    { incidentId: q.incidentId, until, key: `workload:${settling.id}` },
  );
}
