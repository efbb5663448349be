import { Command, type Runtime } from "@langchain/langgraph";
import { requireContext, type SutureContext } from "../graphs/context.js";
import type { IncidentStateValue } from "../graphs/state.js";

/** Where policy-check sends the incident next. */
export type PolicyCheckRoute = "act" | "escalate";

/**
 * policy-check: the only gate before act. Deterministic code (the policy engine) decides
 * allow, needs approval or deny, with reasons. Until human approval lands, needs-approval
 * escalates with the proposed action in the brief.
 */
export async function policyCheck(state: IncidentStateValue, runtime: Runtime<SutureContext>): Promise<Command<unknown, Record<string, unknown>, PolicyCheckRoute>> {
  const ctx = requireContext(runtime);
  const diagnosis = state.diagnosis;
  if (diagnosis?.proposal == null || diagnosis.chosen === null) {
    throw new Error("policy-check reached without a proposed remediation; diagnose must route to escalate instead");
  }
  const track = await ctx.memory.statsFor(diagnosis.chosen.faultClass, diagnosis.proposal.call.tool);
  const verdict = await ctx.policy.evaluate(
    { call: diagnosis.proposal.call, confidence: diagnosis.confidence, category: diagnosis.chosen.category, track },
    ctx.env,
  );
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
  const update = { verdict, timeline: [{ node: "policy-check", at: now, message }] };
  return new Command({ update, goto: verdict.outcome === "allow" ? "act" : "escalate" });
}
