import { describeSelfRecovery } from "../domain/self-health.js";
import { anomalousSignals } from "../evidence/snapshot.js";
import { Command, END, interrupt, type Runtime } from "@langchain/langgraph";
import { finishDryRun } from "../graphs/close-incident.js";
import { ApprovalAnswerSchema, type ApprovalRequest } from "../domain/approval.js";
import { requireContext, type SutureContext } from "../graphs/context.js";
import type { IncidentRow } from "../store/incidents.js";
import type { IncidentStateValue } from "../graphs/state.js";
import type { PolicyVerdict } from "../domain/model.js";
import { ActionsLedger, lockGrants } from "../store/ledger.js";
import type { IncidentFacts, PolicyInput } from "../policy/policy.js";
import { workloadResource } from "../store/locks.js";
import { describeUnseenChange, unseenChange } from "../policy/workload-changes.js";
import { awaitWorkloadSettled } from "../graphs/settled-evidence.js";
import { canonicalJson } from "../domain/json.js";
import { idempotencyKey, prepareRegistration } from "../tools/executor.js";
import type { ToolCall } from "../domain/model.js";
import type { PolicyCheckRoute } from "../graphs/routes.js";

/** A grant that cannot stand: another incident changed the target after this incident's evidence was gathered. */
interface Outdated {
  reperceive: string;
}

/** What the policy needs to know about this incident, read from state and the incidents row. */
function incidentFacts(ctx: SutureContext, state: IncidentStateValue, row: IncidentRow, selfRecoveries: IncidentFacts["selfRecoveries"]): IncidentFacts {
  const now = ctx.clock.now();
  const labels = state.alert.labels;
  const environment = labels["environment"] ?? labels["env"];
  return {
    id: state.incidentId,
    subject: { service: state.alert.service, namespace: state.alert.namespace, ...(environment !== undefined ? { environment } : {}) },
    environmentId: row.environment_id,
    openedAt: state.timeline[0]?.at ?? now,
    now,
    attempts: state.attempts.map((a) => ({ strategy: a.strategy, call: a.call })),
    usage: state.usage,
    services: state.context?.services ?? [state.alert.service],
    affected: affectedWorkloads(state),
    security: securityEvidence(state),
    securityFixes: securityFixes(state),
    restartOnly: restartOnly(state),
    heldOnPurpose: heldOnPurpose(state),
    plannedConfigs: plannedConfigs(state),
    selfRecoveries,
  };
}

/** Workloads whose last scale says they are held at their size on purpose (maintenance, a migration's freeze), with that cause. */
function heldOnPurpose(state: IncidentStateValue): Array<{ service: string; note: string }> {
  return (state.context?.evidence ?? [])
    .filter((e) => e.key === "replicas.desired" && e.attrs["held_on_purpose"] === true)
    .map((e) => ({ service: e.service, note: String(e.attrs["change_cause"]).slice(0, 300) }));
}

/** ConfigMap changes perceive found marked as planned by their own records, with what marks them. */
function plannedConfigs(state: IncidentStateValue): Array<{ service: string; configMap: string; note: string }> {
  return (state.context?.evidence ?? [])
    .filter((e) => e.key === "config.changed" && e.attrs["planned"] === true)
    .map((e) => ({ service: e.service, configMap: String(e.attrs["configmap"]), note: String(e.attrs["planned_note"]).slice(0, 300) }));
}

/** Workloads whose running revision only restarted pods to reload a Secret or ConfigMap, with the markers it changed. */
function restartOnly(state: IncidentStateValue): Array<{ service: string; note: string }> {
  return (state.context?.evidence ?? [])
    .filter((e) => e.key === "deploy.latest" && e.attrs["restart_only"] === true)
    .map((e) => ({ service: e.service, note: `revision ${String(e.attrs["revision"])} changed only ${String(e.attrs["restart_markers"])}`.slice(0, 300) }));
}

/** Workloads whose running revision fixed a vulnerability (its change cause says so), with that cause. */
function securityFixes(state: IncidentStateValue): Array<{ service: string; note: string }> {
  return (state.context?.evidence ?? [])
    .filter((e) => e.key === "deploy.latest" && e.attrs["security_fix"] === true)
    .map((e) => ({ service: e.service, note: `revision ${String(e.attrs["revision"])}: ${String(e.attrs["change_cause"])}`.slice(0, 300) }));
}

/** Suspected abuse and secrets in logs, as perceive read them with Suture's own tools. */
function securityEvidence(state: IncidentStateValue): string[] {
  return (state.context?.evidence ?? []).filter((e) => e.key === "security.signal" || e.key === "log.secret_exposure").map((e) => `${e.service}: ${e.key} ${String(e.value)}`);
}

/** The alerting workload and every workload with a signal Suture's tools read as anomalous (the same test as the `metric.anomalous` facts). */
function affectedWorkloads(state: IncidentStateValue): string[] {
  const abnormal = anomalousSignals(state.context?.snapshot ?? { at: 0, signals: [] }).map((s) => s.service);
  return [...new Set([state.alert.service, ...abnormal])];
}

/** Builds what the human sees: evidence, hypotheses, the call, its risk, blast radius and rollback. */
async function approvalRequest(ctx: SutureContext, state: IncidentStateValue, verdict: PolicyVerdict, requestKey: string, expiresAt: Date): Promise<ApprovalRequest> {
  const diagnosis = state.diagnosis;
  const tool = ctx.tools.get(verdict.call.tool);
  const parsed = ctx.tools.parseCall(verdict.call);
  const target = parsed.ok && tool.target ? tool.target(parsed.params) : undefined;
  let blastRadius = target ? `${target.resource} ${target.name} of ${target.service}` : "unknown target";
  let rollback = "none (not reversible)";
  if (verdict.impact !== null) blastRadius += `: ${verdict.impact.note}; workloads ${verdict.impact.workloads.join(", ")}`;
  if (parsed.ok) {
    const before = tool.captureBefore ? await tool.captureBefore(parsed.params, ctx.env).catch(() => undefined) : undefined;
    const undo = tool.rollback?.(parsed.params, before);
    if (undo !== undefined) rollback = `${undo.tool} ${JSON.stringify(undo.params)}`;
  }
  const cited = new Set(diagnosis?.chosen?.evidenceIds ?? []);
  return {
    kind: "approval",
    requestKey,
    incidentId: state.incidentId,
    call: verdict.call,
    risk: verdict.risk,
    confidence: diagnosis?.confidence ?? 0,
    reasons: verdict.reasons,
    hypotheses: (diagnosis?.hypotheses ?? []).slice(0, 3).map((h) => ({ faultClass: h.faultClass, title: h.title, confidence: h.confidence })),
    evidence: (state.context?.evidence ?? []).filter((e) => cited.has(e.id)).map((e) => `[${e.id}] ${e.summary}`),
    blastRadius,
    rollback,
    ifNobodyAnswers: `the request expires at ${expiresAt.toISOString()} and the incident escalates to a human without acting`,
    expiresAt: expiresAt.toISOString(),
  };
}

/** The workload a call acts on, when the call is valid and its tool names a target (an unknown or invalid call is the policy's to refuse). */
function targetService(ctx: SutureContext, call: ToolCall): string | undefined {
  const parsed = ctx.tools.parseCall(call);
  if (!parsed.ok) return undefined;
  return ctx.tools.get(call.tool).target?.(parsed.params).service;
}

/** The workload lock for a call's target: none (the tool names no target), reserved, or busy (held by another incident). */
type Reservation = { kind: "none" } | { kind: "reserved"; note: string } | { kind: "busy"; reason: string };

/**
 * Reserves the call's target workload for this incident (policy.resourceLock), waiting for
 * another incident that is remediating it when the policy says so. Re-entrant: a workload this
 * incident holds is reserved at once.
 */
async function reserveWorkload(ctx: SutureContext, state: IncidentStateValue, call: ToolCall): Promise<Reservation> {
  const service = targetService(ctx, call);
  if (service === undefined) return { kind: "none" };
  const resource = workloadResource(state.alert.namespace, service);
  const rule = ctx.policy.policy.resourceLock;
  const lock = await ctx.locks.acquire(resource, state.incidentId, rule.whenBusy === "wait" ? rule.waitSeconds * 1000 : 0);
  if (lock.acquired) {
    // Another incident's action still settling holds the workload too (its incident waits in the queue, lock-free).
    if (ctx.clock.realTime) {
      await awaitWorkloadSettled(ctx, state, { environmentId: (await ctx.store.getIncident(state.incidentId)).environment_id, service, actor: "policy-check" });
    }
    const waited = lock.waitedFor !== null ? ` after waiting ${Math.round(lock.waitedMs / 1000)} s for ${lock.waitedFor}` : "";
    return { kind: "reserved", note: `workload ${resource} reserved for this incident${waited}` };
  }
  const holder = lock.holder !== null ? `incident ${lock.holder}` : "another incident";
  const waited = rule.whenBusy === "wait" ? ` after waiting ${Math.round(lock.waitedMs / 1000)} s` : "";
  return { kind: "busy", reason: `workload ${resource} is being remediated by ${holder}${waited} (policy.resourceLock.whenBusy: ${rule.whenBusy})` };
}

/** The verdict with a reservation applied: a busy workload denies, a reserved one says so. */
function withReservation(verdict: PolicyVerdict, reservation: Reservation): PolicyVerdict {
  if (reservation.kind === "busy") return { ...verdict, outcome: "deny", reasons: [reservation.reason] };
  if (reservation.kind === "reserved") return { ...verdict, reasons: [...verdict.reasons, reservation.note] };
  return verdict;
}

/**
 * Why this incident's evidence is outdated for `call`, if it is: another incident acted on the
 * call's target after the evidence was gathered. A verdict on that evidence (live parameter
 * checks included) would judge a world that no longer exists.
 */
async function outdatedFor(ctx: SutureContext, state: IncidentStateValue, environmentId: string | null, call: ToolCall): Promise<Outdated | undefined> {
  const service = targetService(ctx, call);
  if (service === undefined) return undefined;
  const namespace = state.alert.namespace;
  const change = await unseenChange(ctx.store, {
    environmentId,
    namespace,
    service,
    incidentId: state.incidentId,
    watermark: state.context?.actionWatermark ?? 0,
    unsettled: state.context?.unsettledActions ?? [],
  });
  return change !== undefined ? { reperceive: describeUnseenChange(change, namespace) } : undefined;
}

/**
 * Grants an allowed (or approved) call: reserves its workload; if another incident changed that
 * workload after this incident's evidence was gathered (typically while this one waited for the
 * lock), nothing is granted and the incident perceives again. Otherwise, in one transaction under
 * a per-environment lock, re-counts the rules that read the shared actions ledger and registers
 * the action with its rollback, so two workers can never both take the last slot of a rate limit.
 */
async function grant(
  ctx: SutureContext,
  state: IncidentStateValue,
  input: PolicyInput,
  verdict: PolicyVerdict,
  options: { dryRun: boolean; approvedBy?: string; reservation?: Reservation },
): Promise<PolicyVerdict | Outdated> {
  const { dryRun, approvedBy } = options;
  const reserved = withReservation(verdict, options.reservation ?? (await reserveWorkload(ctx, state, verdict.call)));
  if (reserved.outcome === "deny") return reserved;
  const outdated = await outdatedFor(ctx, state, input.incident.environmentId, verdict.call);
  if (outdated !== undefined) return outdated;
  const attempt = state.attempts.length + 1;
  const key = idempotencyKey(state.incidentId, `attempt-${attempt}`, verdict.call);
  const action = await prepareRegistration({ incidentId: state.incidentId, attempt, kind: "remediation", call: verdict.call, key, namespace: state.alert.namespace, envTime: input.incident.now }, ctx);
  return ctx.store.transaction(async (client) => {
    await lockGrants(client, input.incident.environmentId ?? state.incidentId);
    // Granted before (the step re-runs after a restart); a grant cancelled since is counted and registered anew.
    const granted = await ctx.store.findActionByKey(key, client);
    if (granted !== undefined && granted.status !== "cancelled") return { ...reserved, outcome: "allow" as const };
    const recounted = await ctx.policy.recount(input, reserved, new ActionsLedger(client));
    if (recounted.outcome === "deny" || (recounted.outcome === "needs_approval" && approvedBy === undefined)) return recounted;
    // A dry-run replay stops before act: nothing is registered that will never run.
    if (dryRun) return { ...recounted, outcome: "allow" as const, reasons: [...reserved.reasons, `would be granted as attempt ${attempt} (dry run)`] };
    await ctx.store.registerAction(action, client);
    return { ...recounted, outcome: "allow" as const, reasons: [...reserved.reasons, `granted as attempt ${attempt}`] };
  });
}

/**
 * Sends the incident back to perceive (keeping its workload reserved): the evidence predates a
 * change another incident made, so the diagnosis is made again on the world as it is now.
 */
async function perceiveAgain(
  ctx: SutureContext,
  state: IncidentStateValue,
  why: string,
  carry: { approval?: IncidentStateValue["approval"]; entries?: Array<{ node: string; at: number; message: string }> } = {},
): Promise<Command<unknown, Record<string, unknown>, PolicyCheckRoute>> {
  const now = ctx.clock.now();
  const round = state.diagnosis?.round ?? 0;
  await ctx.store.audit({ incidentId: state.incidentId, actor: "policy-check", kind: "reperceive", summary: why, envTime: now, dedupeKey: `${state.incidentId}:reperceive:${round}` });
  const timeline = [...(carry.entries ?? []), { node: "policy-check", at: now, message: why }];
  return new Command({ update: { timeline, ...(carry.approval !== undefined ? { approval: carry.approval } : {}) }, goto: "perceive" });
}

/**
 * Ends a dry-run replay instead of acting: whoever approved it and however it was resumed, the
 * allowed call is described, never executed.
 */
async function stopDryRun(
  ctx: SutureContext,
  state: IncidentStateValue,
  update: { verdict: PolicyVerdict; approval?: IncidentStateValue["approval"]; timeline: Array<{ node: string; at: number; message: string }> },
): Promise<Command<unknown, Record<string, unknown>, PolicyCheckRoute>> {
  const timeline = [...update.timeline];
  const outcome = await finishDryRun(ctx, { ...state, verdict: update.verdict, timeline: [...state.timeline, ...timeline] }, update.verdict.call);
  timeline.push({ node: "policy-check", at: outcome.at, message: outcome.reason });
  return new Command({ update: { ...update, timeline, outcome }, goto: END });
}

/** The verdict recorded when this round's approval was requested (the node re-runs on resume). */
async function requestedVerdict(ctx: SutureContext, incidentId: string, requestKey: string): Promise<PolicyVerdict | undefined> {
  const row = await ctx.store.latestApproval(incidentId);
  if (row?.request_key !== requestKey) return undefined;
  return { outcome: "needs_approval", reasons: row.reasons, risk: row.risk, call: row.call, checks: [], policyVersion: "", impact: null };
}

/**
 * policy-check: the only gate before act. Deterministic code (the policy engine) decides allow,
 * needs approval or deny, with every rule's finding. Needs approval pauses the graph with
 * `interrupt()` until a human approves (the call, possibly changed, is checked again: a human
 * widens nothing the policy denies) or rejects. Everything before the interrupt is safe to run
 * again on resume.
 */
export async function policyCheck(state: IncidentStateValue, runtime: Runtime<SutureContext>): Promise<Command<unknown, Record<string, unknown>, PolicyCheckRoute>> {
  const ctx = requireContext(runtime);
  const diagnosis = state.diagnosis;
  if (diagnosis?.proposal == null || diagnosis.chosen === null) {
    throw new Error("policy-check reached without a proposed remediation; diagnose must route to escalate instead");
  }
  const incident = await ctx.store.getIncident(state.incidentId);
  // Suture's own lowered autonomy, read fresh for every verdict: a recovery opened or restored meanwhile counts.
  const recoveries = (await ctx.store.activeSelfRecoveries()).flatMap((r) => (r.autonomy === null ? [] : [{ id: r.id, autonomy: r.autonomy, reason: `${describeSelfRecovery(r)}: ${r.reason}` }]));
  const facts = incidentFacts(ctx, state, incident, recoveries);
  const dryRun = incident.replay_mode === "dry-run";
  const inputFor = async (call: ToolCall): Promise<PolicyInput> => {
    const track = await ctx.memory.statsFor(diagnosis.chosen?.faultClass ?? "", call.tool);
    return {
      call,
      confidence: diagnosis.confidence,
      category: diagnosis.chosen?.category ?? "",
      strategy: diagnosis.proposal?.strategy ?? call.tool,
      ...(track !== undefined ? { track } : {}),
      incident: facts,
    };
  };
  // Evidence another incident has outdated since is diagnosed again before any verdict is made on
  // it. The workload is reserved first (waiting while another incident remediates it), so no
  // verdict is made while another incident is changing the workload, and looked at again after.
  const outdated = await outdatedFor(ctx, state, incident.environment_id, diagnosis.proposal.call);
  if (outdated !== undefined) return perceiveAgain(ctx, state, outdated.reperceive);
  const reservation = await reserveWorkload(ctx, state, diagnosis.proposal.call);
  if (reservation.kind === "reserved") {
    const changedWhileWaiting = await outdatedFor(ctx, state, incident.environment_id, diagnosis.proposal.call);
    if (changedWhileWaiting !== undefined) return perceiveAgain(ctx, state, changedWhileWaiting.reperceive);
  }
  const ledger = new ActionsLedger(ctx.store);
  const requestKey = `${state.incidentId}:approval:${diagnosis.round}`;
  const proposed = await inputFor(diagnosis.proposal.call);
  const alreadyRequested = await requestedVerdict(ctx, state.incidentId, requestKey);
  const evaluated = alreadyRequested ?? (await ctx.policy.evaluate(proposed, ctx.env, ledger));
  const granted =
    reservation.kind === "busy" && evaluated.outcome !== "deny"
      ? withReservation(evaluated, reservation)
      : evaluated.outcome === "allow"
        ? await grant(ctx, state, proposed, evaluated, { dryRun, reservation })
        : evaluated;
  if ("reperceive" in granted) return perceiveAgain(ctx, state, granted.reperceive);
  const verdict = granted;
  const now = ctx.clock.now();
  const message = `${verdict.outcome.replace("_", " ")} ${verdict.call.tool} (${verdict.risk} risk): ${verdict.reasons.join("; ")}`;
  await ctx.store.audit({
    incidentId: state.incidentId,
    actor: "policy-check",
    kind: "policy_verdict",
    summary: message,
    detail: verdict,
    envTime: now,
    dedupeKey: `${state.incidentId}:policy-check:${diagnosis.round}`,
  });
  const entries = [{ node: "policy-check", at: now, message }];
  if (verdict.outcome === "allow" && dryRun) return stopDryRun(ctx, state, { verdict, timeline: entries });
  if (verdict.outcome !== "needs_approval") {
    return new Command({ update: { verdict, timeline: entries }, goto: verdict.outcome === "allow" ? "act" : "escalate" });
  }

  const row = await ctx.store.requestApproval({
    incidentId: state.incidentId,
    requestKey,
    call: verdict.call,
    risk: verdict.risk,
    reasons: verdict.reasons,
    timeoutMinutes: ctx.policy.policy.approval.timeoutMinutes,
  });
  await ctx.store.setIncidentStatus(state.incidentId, "awaiting_approval", `awaiting approval: ${verdict.call.tool} ${JSON.stringify(verdict.call.params)}`);
  const answer = ApprovalAnswerSchema.parse(interrupt(await approvalRequest(ctx, state, verdict, requestKey, row.expires_at)));

  await ctx.store.setIncidentStatus(state.incidentId, "running");
  const approval = { requestKey, decision: answer.decision, approver: answer.approver, note: answer.note, at: answer.at };
  const who = answer.approver ?? "nobody";
  if (answer.decision !== "approved" || answer.call === null) {
    const why = answer.decision === "expired" ? `approval request expired unanswered` : `rejected by ${who}${answer.note ? `: ${answer.note}` : ""}`;
    entries.push({ node: "policy-check", at: ctx.clock.now(), message: why });
    return new Command({ update: { verdict: { ...verdict, reasons: [...verdict.reasons, why] }, approval, timeline: entries }, goto: "escalate" });
  }
  // The approved call (changed or not) is checked again: time has passed, and a human widens
  // nothing the policy denies.
  const changed = canonicalJson(answer.call) !== canonicalJson(verdict.call);
  const approvedInput = await inputFor(answer.call);
  const recheck = await ctx.policy.evaluate({ ...approvedInput, incident: { ...facts, now: ctx.clock.now() } }, ctx.env, ledger);
  const approvedNote = `approved by ${who}${answer.note ? `: ${answer.note}` : ""}${changed ? ` with parameters ${JSON.stringify(answer.call.params)}` : ""}`;
  const approved =
    recheck.outcome === "deny"
      ? recheck
      : await grant(ctx, state, { ...approvedInput, incident: { ...facts, now: ctx.clock.now() } }, { ...recheck, reasons: [...recheck.reasons, approvedNote] }, { dryRun, approvedBy: who });
  if ("reperceive" in approved) {
    // The human approved a call for a world another incident has changed since: look again
    // (a call still needed there is proposed, and checked, anew).
    return perceiveAgain(ctx, state, `${approvedNote}, but ${approved.reperceive}`, { approval, entries });
  }
  if (approved.outcome !== "allow") {
    const why = `${approvedNote}, but the policy denies ${answer.call.tool} ${JSON.stringify(answer.call.params)}: ${approved.reasons.join("; ")}`;
    entries.push({ node: "policy-check", at: ctx.clock.now(), message: why });
    return new Command({ update: { verdict: { ...approved, outcome: "deny" as const }, approval, timeline: entries }, goto: "escalate" });
  }
  entries.push({ node: "policy-check", at: ctx.clock.now(), message: `allow ${answer.call.tool}: ${approvedNote}` });
  if (dryRun) return stopDryRun(ctx, state, { verdict: approved, approval, timeline: entries });
  await ctx.store.audit({
    incidentId: state.incidentId,
    actor: who,
    kind: "approval",
    summary: approvedNote,
    detail: { answer, verdict: approved },
    envTime: ctx.clock.now(),
    dedupeKey: `${requestKey}:applied`,
  });
  return new Command({ update: { verdict: approved, approval, timeline: entries }, goto: "act" });
}
