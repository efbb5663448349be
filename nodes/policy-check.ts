import { Command, interrupt, type Runtime } from "@langchain/langgraph";
import { ApprovalAnswerSchema, type ApprovalRequest } from "../graphs/approval.js";
import { requireContext, type SutureContext } from "../graphs/context.js";
import type { IncidentStateValue, PolicyVerdict } from "../graphs/state.js";
import { workloadResource } from "../runtime/resource-locks.js";
import { canonicalJson } from "../tools/executor.js";

/** Where policy-check sends the incident next. */
export type PolicyCheckRoute = "act" | "escalate";

/** Builds what the human sees: evidence, hypotheses, the call, its risk, blast radius and rollback. */
async function approvalRequest(ctx: SutureContext, state: IncidentStateValue, verdict: PolicyVerdict, requestKey: string, expiresAt: Date): Promise<ApprovalRequest> {
  const diagnosis = state.diagnosis;
  const tool = ctx.tools.get(verdict.call.tool);
  const parsed = ctx.tools.parseCall(verdict.call);
  const target = parsed.ok && tool.target ? tool.target(parsed.params) : undefined;
  let blastRadius = target ? `${target.resource} ${target.name} of ${target.service}` : "unknown target";
  let rollback = "none (not reversible)";
  if (parsed.ok) {
    const workload = target ? await ctx.env.describeWorkload(target.service).catch(() => undefined) : undefined;
    if (workload !== undefined) blastRadius += `: ${workload.deployment.desiredReplicas} replica(s), callers of ${target?.service ?? ""}`;
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

/**
 * Reserves the call's target workload for this incident (policy.resourceLock); a workload another
 * incident is remediating turns an allow into a deny with the reason.
 */
async function reserveTarget(ctx: SutureContext, state: IncidentStateValue, verdict: PolicyVerdict): Promise<PolicyVerdict> {
  const parsed = ctx.tools.parseCall(verdict.call);
  const tool = ctx.tools.get(verdict.call.tool);
  if (!parsed.ok || tool.target === undefined) return verdict;
  const target = tool.target(parsed.params);
  const resource = workloadResource(state.alert.namespace, target.service);
  const rule = ctx.policy.policy.resourceLock;
  const lock = await ctx.locks.acquire(resource, state.incidentId, rule.whenBusy === "wait" ? rule.waitSeconds * 1000 : 0);
  if (lock.acquired) return { ...verdict, reasons: [...verdict.reasons, `workload ${resource} reserved for this incident`] };
  const holder = lock.holder !== null ? `incident ${lock.holder}` : "another incident";
  const waited = rule.whenBusy === "wait" ? ` after waiting ${Math.round(lock.waitedMs / 1000)} s` : "";
  return { outcome: "deny", risk: verdict.risk, call: verdict.call, reasons: [...verdict.reasons, `workload ${resource} is being remediated by ${holder}${waited} (policy.resourceLock.whenBusy: ${rule.whenBusy})`] };
}

/**
 * policy-check: the only gate before act. Deterministic code (the policy engine) decides allow,
 * needs approval or deny, with reasons. Needs approval pauses the graph with `interrupt()` until
 * a human approves (possibly with changed parameters, checked again by the policy) or rejects.
 * Everything before the interrupt is safe to run again on resume.
 */
export async function policyCheck(state: IncidentStateValue, runtime: Runtime<SutureContext>): Promise<Command<unknown, Record<string, unknown>, PolicyCheckRoute>> {
  const ctx = requireContext(runtime);
  const diagnosis = state.diagnosis;
  if (diagnosis?.proposal == null || diagnosis.chosen === null) {
    throw new Error("policy-check reached without a proposed remediation; diagnose must route to escalate instead");
  }
  const evaluate = async (call: PolicyVerdict["call"]): Promise<PolicyVerdict> => {
    const track = await ctx.memory.statsFor(diagnosis.chosen?.faultClass ?? "", call.tool);
    return ctx.policy.evaluate({ call, confidence: diagnosis.confidence, category: diagnosis.chosen?.category ?? "", track }, ctx.env);
  };
  const evaluated = await evaluate(diagnosis.proposal.call);
  const verdict = evaluated.outcome === "allow" ? await reserveTarget(ctx, state, evaluated) : evaluated;
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
  if (verdict.outcome !== "needs_approval") {
    return new Command({ update: { verdict, timeline: entries }, goto: verdict.outcome === "allow" ? "act" : "escalate" });
  }

  const requestKey = `${state.incidentId}:approval:${diagnosis.round}`;
  const row = await ctx.store.requestApproval({
    incidentId: state.incidentId,
    requestKey,
    call: verdict.call,
    risk: verdict.risk,
    reasons: verdict.reasons,
    timeoutMinutes: ctx.policy.policy.approvalTimeoutMinutes,
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
  // A changed call is checked again: the human widens nothing the policy forbids.
  const changed = canonicalJson(answer.call) !== canonicalJson(verdict.call);
  const recheck = changed ? await evaluate(answer.call) : verdict;
  if (recheck.outcome === "deny") {
    const why = `approved by ${who} with changed parameters, but the policy denies ${answer.call.tool} ${JSON.stringify(answer.call.params)}: ${recheck.reasons[recheck.reasons.length - 1] ?? ""}`;
    entries.push({ node: "policy-check", at: ctx.clock.now(), message: why });
    return new Command({ update: { verdict: recheck, approval, timeline: entries }, goto: "escalate" });
  }
  const approved = await reserveTarget(ctx, state, {
    outcome: "allow",
    reasons: [...recheck.reasons, `approved by ${who}${answer.note ? `: ${answer.note}` : ""}${changed ? ` with parameters ${JSON.stringify(answer.call.params)}` : ""}`],
    risk: recheck.risk,
    call: answer.call,
  });
  if (approved.outcome === "deny") {
    const why = approved.reasons[approved.reasons.length - 1] ?? "workload busy";
    entries.push({ node: "policy-check", at: ctx.clock.now(), message: why });
    return new Command({ update: { verdict: approved, approval, timeline: entries }, goto: "escalate" });
  }
  entries.push({ node: "policy-check", at: ctx.clock.now(), message: `allow ${answer.call.tool}: ${approved.reasons[approved.reasons.length - 1] ?? ""}` });
  await ctx.store.audit({
    incidentId: state.incidentId,
    actor: who,
    kind: "approval",
    summary: approved.reasons[approved.reasons.length - 1] ?? "approved",
    detail: { answer, verdict: approved },
    envTime: ctx.clock.now(),
    dedupeKey: `${requestKey}:applied`,
  });
  return new Command({ update: { verdict: approved, approval, timeline: entries }, goto: "act" });
}
