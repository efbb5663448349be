import type { SutureContext } from "./context.js";
import type { IncidentStateValue } from "./state.js";
import { workloadResource } from "../store/locks.js";
import { assertWorkloadNotSettling, describeUnseenChange, unseenChange, WorkloadSettlingError } from "../policy/workload-changes.js";

/**
 * On the wall clock, another open incident's executed, not yet verified action on the workload
 * holds it like the workload lock would: throws {@link WorkloadSettlingError} (whose continuation
 * runs the node again after that action's settle deadline), audited once per deadline by `actor`.
 * A simulated clock needs nothing: verify sleeps within the run that holds the lock.
 */
export async function awaitWorkloadSettled(
  ctx: SutureContext,
  state: IncidentStateValue,
  target: { environmentId: string | null; service: string; actor: "policy-check" | "diagnose" },
): Promise<void> {
  await assertWorkloadNotSettling(ctx.store, ctx.clock, {
    environmentId: target.environmentId,
    namespace: state.alert.namespace,
    service: target.service,
    incidentId: state.incidentId,
    policy: ctx.policy.policy,
    tool: (name) => (ctx.tools.has(name) ? ctx.tools.get(name) : undefined),
  }).catch(async (error: unknown) => {
    if (error instanceof WorkloadSettlingError) {
      // policy-check's key predates diagnose's use; it stays as it was so a resumed incident dedupes its earlier entry.
      const by = target.actor === "policy-check" ? "" : `${target.actor}:`;
      await ctx.store.audit({
        incidentId: state.incidentId,
        actor: target.actor,
        kind: "workload_settling",
        summary: error.message,
        envTime: ctx.clock.now(),
        dedupeKey: `${state.incidentId}:${by}${error.continuation.key}:${error.continuation.until.getTime()}`,
      });
    }
    throw error;
  });
}

/**
 * Why the incident must perceive again before concluding without acting, if it must: its
 * evidence was gathered while another incident's action on the alert's workload was under way
 * (a rollback half rolled out explains nothing and matches no rule), or another incident acted
 * on the workload since. With an action under way it first waits for the workload as
 * policy-check would (the lock per `policy.resourceLock`; on the wall clock, the action's settle
 * deadline, as a durable continuation), so the next look sees that action's verdict. Without
 * another incident's action since the evidence was gathered, nothing is waited for or read again.
 */
export async function reasonToLookAgain(ctx: SutureContext, state: IncidentStateValue): Promise<string | undefined> {
  const context = state.context;
  if (context === null) return undefined;
  const { namespace, service } = state.alert;
  const environmentId = (await ctx.store.getIncident(state.incidentId)).environment_id;
  if (environmentId === null) return undefined;
  if (context.unsettledActions.some((a) => a.service === service)) {
    const rule = ctx.policy.policy.resourceLock;
    // Busy past the wait: the check below still sees whatever moved meanwhile.
    await ctx.locks.acquire(workloadResource(namespace, service), state.incidentId, rule.whenBusy === "wait" ? rule.waitSeconds * 1000 : 0);
    await awaitWorkloadSettled(ctx, state, { environmentId, service, actor: "diagnose" });
  }
  const change = await unseenChange(ctx.store, {
    environmentId,
    namespace,
    service,
    incidentId: state.incidentId,
    watermark: context.actionWatermark,
    unsettled: context.unsettledActions,
  });
  return change !== undefined ? describeUnseenChange(change, namespace, "concluding") : undefined;
}
