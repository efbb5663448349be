import { describeTarget } from "../domain/alerts/target.js";
import { round } from "../evidence/metrics.js";
import { anomalousSignals, describeChange } from "../evidence/snapshot.js";
import type { Evidence, LikelyCause, Outcome, PolicyVerdict } from "../domain/model.js";
import type { RegressionFinding } from "../domain/regressions.js";
import { describeReliability, reliabilityOfLastDecision, type Reliability } from "../domain/reliability.js";
import type { IncidentStateValue } from "./state.js";

/** The incident brief: what a human needs to take over (or to audit what Suture did). */
export interface Brief {
  incidentId: string;
  alert: { name: string; service: string; severity: string; startsAt: string; summary?: string; target?: string };
  outcome: Outcome | null;
  evidence: Array<{ id: string; summary: string }>;
  hypotheses: Array<{
    faultClass: string;
    title: string;
    confidence: number;
    reasoner: string;
    evidenceIds: string[];
    explanation: string;
    /** Each reasoner's confidence and weight when several proposed this fault class (see reasoners/combine.ts). */
    contributions?: Array<{ reasoner: string; confidence: number; weight: number }>;
    inconsistencies?: string[];
  }>;
  /** What the reasoners reported besides hypotheses, per round (model fallbacks, discarded output). */
  notes?: string[];
  /** Model tokens and estimated cost this incident spent. */
  modelUsage?: { tokens: number; costUsd: number };
  actions: Array<{
    attempt: number;
    call: string;
    risk: string;
    verdict: string;
    before: string[];
    after: string[];
    rollback: string | null;
    rolledBack: boolean;
    error?: string;
  }>;
  pending: { call: string; verdict: string; reasons: string[] } | null;
  /** Every policy verdict of the incident, with its decisive reasons and the policy version. */
  policy?: Array<{ call: string; outcome: string; reasons: string[]; policyVersion: string }>;
  /** Past incidents diagnose recalled and how much each moved which remediation. */
  memory: {
    recalled: Array<{ incidentId: string; similarity: number; outcome: string; remediation: string | null }>;
    adjustments: Array<{ tool: string; delta: number; from: Array<{ incidentId: string; verdict: string; similarity: number }> }>;
  };
  /** Suggested steps from the most similar imported runbook, when no rule explained the alert. */
  runbook: { name: string; similarity: number; diagnosis: string; mitigation: string } | null;
  /** When diagnose escalated: the most likely cause class, the evidence for and against, and what to check first. */
  likelyCause?: LikelyCause;
  /** How much the last decision deserves trust: belief (confidence, agreement, consistency, coverage) joined with the verified outcome (domain/reliability.ts). */
  reliability?: Reliability & { summary: string };
  /** For an incident the regression watch opened: the deploy, what rose, triage, and (when rollback is unsafe) the fix-forward brief. */
  regression?: RegressionBrief;
  timeline: string[];
}

/** The reliability of the incident's last decision, with the verdict of the action it took when verify judged one. */
function decisionReliability(state: IncidentStateValue): { reliability: Reliability & { summary: string } } | undefined {
  if (state.diagnosis === null || state.context === null) return undefined;
  const r = reliabilityOfLastDecision(state.diagnosis, state.context.evidence, state.alert.service, state.attempts);
  return { reliability: { ...r, summary: describeReliability(r) } };
}

/** The regression section of a brief. */
export interface RegressionBrief {
  deploy: string;
  signatures: Array<{ signature: string; observed: number; expected: number; new: boolean; example: string }>;
  triage: { isRuntimeChange: boolean; causalLink: boolean; confidence: string; evidence: string[] };
  suspects: Array<{ path: string; reasons: string[]; hunks: string[] }>;
  /** Present when the deploy cannot be rolled back safely: what a human or a coding agent should fix. Suture writes no code. */
  fixForward?: { why: string; expected: string[] };
}

/** The regression section: what rose after which deploy, the triage, and a fix-forward brief when rollback is unsafe. */
export function regressionBrief(finding: RegressionFinding): RegressionBrief {
  const t = finding.triage;
  const hours = Math.max(1 / 60, (finding.window.to - finding.window.from) / 3_600_000);
  return {
    deploy: `${finding.workload.namespace}/${finding.workload.name} ${finding.version} (deploy ${finding.deployId}, ${finding.deployAt})`,
    signatures: finding.flagged.map((f) => ({ signature: f.signature, observed: f.observed, expected: round(f.expected), new: !f.seenBefore, example: f.exemplars[0] ?? "" })),
    triage: { isRuntimeChange: t.isRuntimeChange, causalLink: t.causalLink, confidence: t.confidence, evidence: t.evidence },
    suspects: t.suspects.map((s) => ({ path: s.path, reasons: s.reasons, hunks: s.hunks })),
    ...(t.rollbackSafe
      ? {}
      : {
          fixForward: {
            why: `rolling back is unsafe: the deploy ${[t.migration ? "carried a schema migration" : "", t.contractChange ? "changed a contract its callers use" : ""].filter((x) => x !== "").join(" and ")}; fix forward instead`,
            expected: finding.flagged.map((f) =>
              f.seenBefore
                ? `"${f.signature}" back to its baseline (about ${round(f.expected / hours)} per hour before ${finding.version}; ${round(f.observed / hours)} per hour since)`
                : `"${f.signature}" gone: it never appeared before ${finding.version}`,
            ),
          },
        }),
  };
}

function callText(call: { tool: string; params: Record<string, unknown> }): string {
  return `${call.tool} ${JSON.stringify(call.params)}`;
}

/** Builds the brief from the incident's state. */
export function buildBrief(state: IncidentStateValue, outcome: Outcome | null, verdicts: PolicyVerdict[] = []): Brief {
  const evidence = state.context?.evidence ?? [];
  const byId = new Map<string, Evidence>(evidence.map((e) => [e.id, e]));
  const hypotheses = state.diagnosis?.hypotheses ?? [];
  const cited = new Set(hypotheses.slice(0, 3).flatMap((h) => h.evidenceIds));
  const abnormal = evidence.filter((e) => e.key === "metric.anomalous").map((e) => e.id);
  for (const id of abnormal) cited.add(id);
  const verdict = state.verdict;
  const lastAttempt = state.attempts[state.attempts.length - 1];
  const pendingVerdict = verdict !== null && verdict.outcome !== "allow" && state.diagnosis?.decision === "act" ? verdict : null;
  const summary = state.alert.annotations["summary"];
  return {
    incidentId: state.incidentId,
    alert: {
      name: state.alert.name,
      service: state.alert.service,
      severity: state.alert.severity,
      startsAt: state.alert.startsAt,
      ...(summary !== undefined ? { summary } : {}),
      ...(state.alert.target !== undefined ? { target: describeTarget(state.alert.target) } : {}),
    },
    outcome,
    evidence: [...cited]
      .map((id) => byId.get(id))
      .filter((e): e is Evidence => e !== undefined)
      .map((e) => ({ id: e.id, summary: e.summary })),
    hypotheses: hypotheses.slice(0, 5).map((h) => ({
      faultClass: h.faultClass,
      title: h.title,
      confidence: h.confidence,
      reasoner: h.reasoner,
      evidenceIds: h.evidenceIds,
      explanation: h.explanation,
      ...(h.contributions !== undefined ? { contributions: h.contributions } : {}),
      ...(h.inconsistencies !== undefined ? { inconsistencies: h.inconsistencies } : {}),
    })),
    notes: state.diagnoses.flatMap((d) => d.notes.map((n) => `round ${d.round}: ${n}`)),
    modelUsage: { tokens: state.usage.modelTokens, costUsd: state.usage.modelCostUsd },
    actions: state.attempts.map((a) => ({
      attempt: a.number,
      call: callText(a.call),
      risk: a.risk,
      verdict: a.verdict ?? (a === lastAttempt ? "pending verification" : "unknown"),
      before: anomalousSignals(a.before).map((s) => `${s.service} ${s.metric} ${round(s.current)} (baseline ${round(s.baseline)})`),
      after: a.after ? describeChange(a.before, a.after) : [],
      rollback: a.rollback ? callText(a.rollback) : null,
      rolledBack: a.rolledBack,
      ...(a.error !== undefined ? { error: a.error } : {}),
    })),
    policy: verdicts.map((v) => ({ call: callText(v.call), outcome: v.outcome, reasons: v.reasons, policyVersion: v.policyVersion })),
    pending: pendingVerdict ? { call: callText(pendingVerdict.call), verdict: pendingVerdict.outcome, reasons: pendingVerdict.reasons } : null,
    memory: {
      recalled: (state.diagnoses[0]?.recalled ?? []).slice(0, 5).map((r) => ({ incidentId: r.incidentId, similarity: r.similarity, outcome: r.outcome, remediation: r.remediation })),
      adjustments: state.diagnoses.flatMap((d) =>
        d.hypotheses.flatMap((h) =>
          h.candidates
            .filter((c) => c.memoryDelta !== undefined)
            .map((c) => ({
              tool: `${c.call.tool} (${h.faultClass}, round ${d.round})`,
              delta: c.memoryDelta ?? 0,
              from: (c.memory ?? []).map((m) => ({ incidentId: m.incidentId, verdict: m.verdict, similarity: m.similarity })),
            })),
        ),
      ),
    },
    runbook: state.diagnosis?.runbook ?? null,
    ...(state.diagnosis?.likelyCause !== undefined ? { likelyCause: state.diagnosis.likelyCause } : {}),
    ...(decisionReliability(state) ?? {}),
    ...(state.context?.regression !== undefined ? { regression: regressionBrief(state.context.regression) } : {}),
    timeline: state.timeline.map((t) => `${new Date(t.at).toISOString()} ${t.node}: ${t.message}`),
  };
}
