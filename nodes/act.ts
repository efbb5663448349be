import { Command, END, type Runtime } from "@langchain/langgraph";
import { finishDryRun } from "../graphs/close-incident.js";
import { readSnapshot } from "../evidence/snapshot.js";
import { requireContext, type SutureContext } from "../graphs/context.js";
import type { IncidentStateValue } from "../graphs/state.js";
import type { Attempt } from "../domain/model.js";
import { describeUnseenChange, unseenChange } from "../policy/workload-changes.js";
import { effectiveSettleSeconds } from "../policy/schema.js";
import { workloadResource } from "../store/locks.js";
import { executeOnce, idempotencyKey } from "../tools/executor.js";
import { Observer } from "../tools/observer.js";
import type { ActRoute } from "../graphs/routes.js";

/**
 * act: snapshots the watched signals, then executes the call policy-check granted exactly once
 * (the idempotency key is checked before execution, so a resumed or retried step never runs it
 * twice). If another incident changed the workload after this incident's evidence was gathered
 * (possible when a restart between policy-check and act lost the workload's lock), the grant is
 * cancelled and the incident perceives again instead of acting on an outdated diagnosis.
 */
export async function act(state: IncidentStateValue, runtime: Runtime<SutureContext>): Promise<Command<unknown, Record<string, unknown>, ActRoute>> {
  const ctx = requireContext(runtime);
  const verdict = state.verdict;
  const diagnosis = state.diagnosis;
  if (verdict?.outcome !== "allow" || diagnosis?.proposal == null || state.context === null) {
    throw new Error("act reached without an allow verdict for the proposed call; only policy-check may send work here");
  }
  const number = state.attempts.length + 1;
  const call = verdict.call;
  const { environment_id: environmentId, replay_mode: replayMode } = await ctx.store.getIncident(state.incidentId);
  if (replayMode === "dry-run") {
    // policy-check ends dry runs; this holds for runs paused before act by older versions too.
    const outcome = await finishDryRun(ctx, state, call);
    return new Command({ update: { outcome, timeline: [{ node: "act", at: outcome.at, message: outcome.reason }] }, goto: END });
  }
  const tool = ctx.tools.get(call.tool);
  const key = idempotencyKey(state.incidentId, `attempt-${number}`, call);
  const parsed = ctx.tools.parseCall(call);
  if (parsed.ok && tool.target !== undefined) {
    // policy-check reserved the workload; after a restart between the two steps, take it again.
    const service = tool.target(parsed.params).service;
    const resource = workloadResource(state.alert.namespace, service);
    const lock = await ctx.locks.acquire(resource, state.incidentId, ctx.policy.policy.resourceLock.waitSeconds * 1000);
    if (!lock.acquired) throw new Error(`workload ${resource} is being remediated by ${lock.holder ?? "another incident"}; this step will be retried`);
    const change = await unseenChange(ctx.store, {
      environmentId,
      namespace: state.alert.namespace,
      service,
      incidentId: state.incidentId,
      watermark: state.context.actionWatermark,
      unsettled: state.context.unsettledActions,
    });
    if (change !== undefined) {
      await ctx.store.cancelAction(key);
      const why = `attempt ${number}: ${call.tool} not executed (grant cancelled): ${describeUnseenChange(change, state.alert.namespace)}`;
      const now = ctx.clock.now();
      await ctx.store.audit({
        incidentId: state.incidentId,
        actor: "act",
        kind: "reperceive",
        summary: why,
        envTime: now,
        dedupeKey: `${state.incidentId}:act-reperceive:${number}:${change.action.id}:${change.how}`,
      });
      return new Command({ update: { timeline: [{ node: "act", at: now, message: why }] }, goto: "perceive" });
    }
  }
  const existing = await ctx.store.findActionByKey(key);
  const before =
    existing?.before_signals != null
      ? (existing.before_signals as Attempt["before"])
      : await readSnapshot(new Observer(ctx.tools, ctx.env, ctx.clock), state.context.snapshot.signals, ctx.clock.now());
  const result = await executeOnce(
    { incidentId: state.incidentId, attempt: number, kind: "remediation", call, key, beforeSignals: before, namespace: state.alert.namespace, envTime: ctx.clock.now() },
    ctx,
  );
  const now = ctx.clock.now();
  const attempt: Attempt = {
    number,
    call,
    strategy: diagnosis.proposal.strategy,
    faultClass: diagnosis.chosen?.faultClass ?? "unknown",
    actionClass: tool.actionClass,
    risk: tool.risk,
    idempotencyKey: key,
    actionId: result.action.id,
    rollback: result.action.rollback_call,
    before,
    executedAt: now,
    settleSeconds: effectiveSettleSeconds(ctx.policy.policy, tool),
    status: result.error === undefined ? "executed" : "failed",
    ...(result.error !== undefined ? { error: result.error } : {}),
    ...(diagnosis.proposal.memory !== undefined ? { memory: diagnosis.proposal.memory } : {}),
    rolledBack: false,
  };
  // Only a real alert source lives on the wall clock: a simulated world's alerts are not in Alertmanager.
  if (attempt.status === "executed" && ctx.silencer !== null && ctx.clock.realTime) {
    const silenced = await ctx.silencer.silence({ incidentId: state.incidentId, alert: state.alert, until: now + attempt.settleSeconds * 1000, now });
    if (silenced.silenceId !== undefined) attempt.silenceId = silenced.silenceId;
    await ctx.store.audit({
      incidentId: state.incidentId,
      actor: "act",
      kind: silenced.done ? "silenced" : "silence_skipped",
      summary: silenced.detail,
      envTime: now,
      dedupeKey: `${state.incidentId}:silence:${number}`,
    });
  }
  const what = `${call.tool} ${JSON.stringify(call.params)}`;
  const message = result.error
    ? `attempt ${number}: ${what} failed: ${result.error}`
    : `attempt ${number}: executed ${what}${result.executedNow ? "" : " (already executed before a restart; not run again)"}; rollback registered: ${attempt.rollback ? `${attempt.rollback.tool} ${JSON.stringify(attempt.rollback.params)}` : "none (not reversible)"}`;
  await ctx.store.audit({
    incidentId: state.incidentId,
    actor: "act",
    kind: "action",
    summary: message,
    detail: { attempt, idempotencyKey: key, executedNow: result.executedNow },
    envTime: now,
    dedupeKey: `${state.incidentId}:act:${number}`,
  });
  return new Command({ update: { attempts: [attempt], timeline: [{ node: "act", at: now, message }] }, goto: "verify" });
}
