import { CallTally } from "../domain/self-calls.js";
import { Command, END, type Runtime } from "@langchain/langgraph";
import { requireContext, type SutureContext } from "../graphs/context.js";
import type { IncidentStateValue } from "../graphs/state.js";
import type { Diagnosis, Hypothesis, RemediationCandidate } from "../domain/model.js";
import { finishIncident } from "../graphs/close-incident.js";
import { applyMemory, describeMemory } from "../reasoners/memory-evidence.js";
import { combine } from "../reasoners/combine.js";
import type { Reasoner, ReasonerReport, ReportedUsage } from "../reasoners/reasoner.js";
import type { DiagnoseRoute } from "../graphs/routes.js";
import { likelyCause } from "../reasoners/likely-cause.js";
import { reasonToLookAgain } from "../graphs/settled-evidence.js";
import { targetEscalation } from "../domain/alerts/target.js";

/** The reason diagnose gives when no hypothesis exists at all. */
const NO_EXPLANATION = "no rule or evidence explains the alert";

/** A runbook less similar than this to the alert is not worth suggesting. */
const RUNBOOK_MIN_SIMILARITY = 0.35;

function text(value: unknown): string {
  return typeof value === "string" ? value : "";
}

/** ` (rules 0.80 + llm 0.70 ×0.6; inconsistent: …)` when reasoners were pooled or readings contradicted. */
function describeContributions(h: Hypothesis): string {
  const parts: string[] = [];
  if ((h.contributions ?? []).length > 0) parts.push((h.contributions ?? []).map((c) => `${c.reasoner} ${c.confidence.toFixed(2)}${c.weight !== 1 ? ` ×${c.weight}` : ""}`).join(" + "));
  if ((h.inconsistencies ?? []).length > 0) parts.push(`inconsistent: ${(h.inconsistencies ?? []).join("; ")}`);
  return parts.length > 0 ? ` (${parts.join("; ")})` : "";
}

interface Choice {
  hypothesis: Hypothesis | null;
  proposal: RemediationCandidate | null;
  confidence: number;
  decision: Diagnosis["decision"];
  reason: string;
}

/**
 * Picks what to do from ranked hypotheses: a hypothesis that must go to a human wins if it is
 * credible; otherwise the best untried remediation of the best actionable hypothesis; when
 * nothing explains the alert well enough, escalate rather than guess.
 */
export function choose(hypotheses: Hypothesis[], tried: Set<string>, escalateBelow: number, attemptsLeft: number): Choice {
  const credible = hypotheses.filter((h) => h.confidence >= escalateBelow);
  const mustEscalate = credible.find((h) => h.disposition === "escalate");
  if (mustEscalate !== undefined) {
    return {
      hypothesis: mustEscalate,
      proposal: null,
      confidence: mustEscalate.confidence,
      decision: "escalate",
      reason: `${mustEscalate.title} (${mustEscalate.category}) is handled by humans, never automatically`,
    };
  }
  const top = hypotheses[0];
  if (top === undefined) {
    return { hypothesis: null, proposal: null, confidence: 0, decision: "escalate", reason: NO_EXPLANATION };
  }
  if (top.disposition === "no-action" && top.confidence >= escalateBelow) {
    return { hypothesis: top, proposal: null, confidence: top.confidence, decision: "no-action", reason: top.title };
  }
  if (attemptsLeft <= 0) {
    return { hypothesis: top, proposal: null, confidence: top.confidence, decision: "escalate", reason: "remediation attempts exhausted" };
  }
  // Every untried (hypothesis, candidate) pair, best candidate confidence first: memory can
  // promote a fallback above the rules' first choice.
  const pairs = hypotheses
    .filter((x) => x.disposition === "act")
    .flatMap((h) => h.candidates.filter((c) => !tried.has(c.strategy)).map((c) => ({ h, c, confidence: c.confidence ?? h.confidence })))
    .sort((a, b) => b.confidence - a.confidence || b.h.confidence - a.h.confidence);
  const best = pairs[0];
  if (best !== undefined) {
    const { h, c, confidence } = best;
    if (confidence < escalateBelow) {
      return {
        hypothesis: h,
        proposal: c,
        confidence,
        decision: "escalate",
        reason: `best explanation "${h.title}" has confidence ${confidence.toFixed(2)} for ${c.call.tool}, below ${escalateBelow.toFixed(2)} needed to act`,
      };
    }
    return { hypothesis: h, proposal: c, confidence, decision: "act", reason: `${h.title}: ${c.rationale}` };
  }
  return {
    hypothesis: top,
    proposal: null,
    confidence: top.confidence,
    decision: "escalate",
    reason: tried.size > 0 ? "every proposed remediation was already tried" : `"${top.title}" has no remediation Suture may run`,
  };
}

/** The reasoners to ask: all of them, except those that ask a model while a `model_off` self-recovery is in force (said in the notes). */
async function reasonersInForce(ctx: SutureContext, notes: string[]): Promise<Reasoner[]> {
  if (!ctx.reasoners.some((r) => r.usesModel === true)) return ctx.reasoners;
  const off = (await ctx.store.activeSelfRecoveries()).find((r) => r.kind === "model_off");
  if (off === undefined) return ctx.reasoners;
  const left = ctx.reasoners.filter((r) => r.usesModel !== true);
  notes.push(`model reasoner off (self-recovery #${off.id}: ${off.reason}); decided by ${left.map((r) => r.name).join(", ")} until a human restores it`);
  return left;
}

/**
 * diagnose: asks every reasoner for hypotheses about the evidence (and what was already tried),
 * then routes on confidence: act through policy-check, close with no action, or escalate.
 */
export async function diagnose(state: IncidentStateValue, runtime: Runtime<SutureContext>): Promise<Command<unknown, Record<string, unknown>, DiagnoseRoute>> {
  const ctx = requireContext(runtime);
  if (state.context === null) throw new Error("diagnose ran before perceive gathered a context");
  const round = state.diagnoses.length + 1;
  const context = state.context;
  const notes: string[] = [];
  const usage = { modelTokens: 0, modelCostUsd: 0 };
  const reported: Array<{ reasoner: string; usage: ReportedUsage }> = [];
  const modelCalls = new CallTally();
  const reportFor =
    (reasoner: string) =>
    (r: ReasonerReport): void => {
      notes.push(...(r.notes ?? []));
      if (r.call !== undefined) modelCalls.add("model", r.call.model, r.call.outcome, r.call.ms);
      if (r.usage === undefined) return;
      usage.modelTokens += r.usage.modelTokens;
      usage.modelCostUsd += r.usage.modelCostUsd;
      reported.push({ reasoner, usage: r.usage });
    };
  const recalled = await ctx.memory.recall(state.incidentId, state.alert, context);
  const g = ctx.policy.policy.guardrails;
  const budget = { spent: state.usage, max: { modelTokens: g.maxModelTokens, modelCostUsd: g.maxModelCostUsd } };
  const reasoners = await reasonersInForce(ctx, notes);
  const results = await Promise.all(reasoners.map((r) => r.diagnose({ alert: state.alert, context, attempts: state.attempts, recalled, budget, report: reportFor(r.name) })));
  for (const r of reported) await ctx.store.recordModelUsage(state.incidentId, round, r.reasoner, r.usage);
  const counted = modelCalls.drain();
  if (counted.length > 0) await ctx.store.recordSelfCalls(state.incidentId, counted);
  const now = ctx.clock.now();
  const combined = combine(results, ctx.policy.policy.pooling.weights);
  const adjusted = ctx.memoryAdjusts === false ? combined : applyMemory(combined, recalled, now);
  const hypotheses = adjusted.sort((a, b) => b.confidence - a.confidence || a.id.localeCompare(b.id));
  const suggested = hypotheses.length === 0 ? await ctx.memory.suggestRunbook(state.alert) : undefined;
  const runbook =
    suggested !== undefined && suggested.similarity >= RUNBOOK_MIN_SIMILARITY
      ? { name: suggested.title, similarity: suggested.similarity, diagnosis: text(suggested.details["diagnosis"]), mitigation: text(suggested.details["mitigation"]) }
      : null;
  const tried = new Set(state.attempts.map((a) => a.strategy));
  const policy = ctx.policy.policy;
  const chosen = choose(hypotheses, tried, policy.escalateBelow, policy.guardrails.maxAttempts - state.attempts.length);
  // A node, a job, a quota: Suture reads them and may close the alert, but changes only workloads.
  const notWorkload = targetEscalation(state.alert.target);
  const choice: Choice = notWorkload !== undefined && chosen.decision === "act" ? { ...chosen, proposal: null, decision: "escalate", reason: `${chosen.reason}; but ${notWorkload}` } : chosen;
  const diagnosis: Diagnosis = {
    round,
    hypotheses,
    chosen: choice.hypothesis,
    proposal: choice.proposal,
    confidence: choice.confidence,
    decision: choice.decision,
    reason: choice.reason,
    recalled: recalled.map((n) => ({ incidentId: n.incidentId ?? "", similarity: n.similarity, outcome: n.outcome ?? "", remediation: n.remediation, faultClass: n.faultClass })),
    runbook,
    notes,
    // Escalating without acting: tell the human where the evidence points anyway.
    ...(choice.decision === "escalate" ? { likelyCause: likelyCause(context.evidence, hypotheses, state.alert.service, choice.hypothesis) } : {}),
  };
  const ranked = hypotheses
    .slice(0, 3)
    .map((h) => `${h.faultClass} ${h.confidence.toFixed(2)}${describeContributions(h)}`)
    .join(", ");
  const proposal = choice.proposal ? ` → propose ${choice.proposal.call.tool} ${JSON.stringify(choice.proposal.call.params)}` : "";
  const memoryNote = describeMemory(hypotheses, recalled);
  const runbookNote = runbook !== null ? `; suggested runbook ${runbook.name} (similarity ${runbook.similarity.toFixed(2)})` : "";
  const noteText = notes.length > 0 ? `; ${notes.join("; ")}` : "";
  const causeNote = diagnosis.likelyCause !== undefined ? `; likely cause: ${diagnosis.likelyCause.faultClass} (${diagnosis.likelyCause.score.toFixed(2)})` : "";
  // Acting is re-checked against other incidents' changes at policy-check; concluding without acting is checked here.
  const lookAgain = choice.decision !== "act" ? await reasonToLookAgain(ctx, state) : undefined;
  const lookAgainNote = lookAgain !== undefined ? `; not concluded: ${lookAgain}` : "";
  const message = `round ${round}: ${hypotheses.length} hypothesis(es) [${ranked || "none"}]${memoryNote ? `; ${memoryNote}` : ""}${noteText}; ${choice.decision}: ${choice.reason}${proposal}${runbookNote}${causeNote}${lookAgainNote}`;
  await ctx.store.audit({
    incidentId: state.incidentId,
    actor: "diagnose",
    kind: "diagnosis",
    summary: message,
    detail: diagnosis,
    envTime: now,
    dedupeKey: `${state.incidentId}:diagnose:${round}`,
  });
  const entry = { node: "diagnose", at: now, message };
  const update = { diagnosis, diagnoses: [diagnosis], timeline: [entry], usage };
  if (lookAgain !== undefined) return new Command({ update, goto: "perceive" });
  if (choice.decision === "act") return new Command({ update, goto: "policy-check" });
  if (choice.decision === "escalate") return new Command({ update, goto: "escalate" });
  const outcome = await finishIncident(
    ctx,
    { ...state, diagnosis, diagnoses: [...state.diagnoses, diagnosis], timeline: [...state.timeline, entry] },
    {
      status: "closed_no_action",
      reason: choice.reason,
      at: now,
    },
  );
  return new Command({ update: { ...update, outcome }, goto: END });
}
