/**
 * The incident's domain model: what perceive gathers, what diagnose concludes, what the policy
 * decides and what act and verify did. The graph's state (graphs/state.ts) is built from these
 * schemas; everything below the graph uses them without knowing about the graph.
 */
import { z } from "zod";
import { RegressionFindingSchema } from "./regressions.js";

/** A tool call proposed or made by Suture. */
export const ToolCallSchema = z.object({
  tool: z.string(),
  params: z.record(z.string(), z.unknown()),
});
/** A tool call: a registered tool's name and its parameters. */
export type ToolCall = z.infer<typeof ToolCallSchema>;

/** One normalized error signature reduced from log lines. */
export const LogSignatureSchema = z.object({
  template: z.string(),
  level: z.string(),
  count: z.number().int(),
  firstSeen: z.number(),
  lastSeen: z.number(),
  sample: z.string(),
});
/** A normalized log signature. */
export type LogSignature = z.infer<typeof LogSignatureSchema>;

/** One piece of evidence gathered by perceive; reasoners cite it by `id`. */
export const EvidenceSchema = z.object({
  id: z.string(),
  /** Fact key, e.g. `pod.reason`, `log.signature`, `deploy.minutes_since`. */
  key: z.string(),
  service: z.string(),
  value: z.union([z.string(), z.number(), z.boolean()]),
  summary: z.string(),
  /** Structured details a remediation template may use (e.g. the previous revision). */
  attrs: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
});
/** A fact with an id, e.g. `{ key: "pod.reason", value: "OOMKilled" }`. */
export type Evidence = z.infer<typeof EvidenceSchema>;

/** Latest value and pre-incident baseline of one signal. */
export const SignalSchema = z.object({
  service: z.string(),
  metric: z.string(),
  current: z.number(),
  baseline: z.number(),
});
/** A signal reading. */
export type Signal = z.infer<typeof SignalSchema>;

/** The signals Suture watches for an incident, read at one instant. */
export const SignalSnapshotSchema = z.object({
  at: z.number(),
  signals: z.array(SignalSchema),
});
/** A snapshot of watched signals. */
export type SignalSnapshot = z.infer<typeof SignalSnapshotSchema>;

/** A read-tool call perceive made, with its (redacted) result. */
export const ToolObservationSchema = z.object({
  tool: z.string(),
  params: z.record(z.string(), z.unknown()),
  at: z.number(),
  ok: z.boolean(),
  /** Short description of the result. */
  summary: z.string(),
  result: z.unknown(),
});
/** A recorded read-tool call. */
export type ToolObservation = z.infer<typeof ToolObservationSchema>;

/** Another incident's action as it stood when evidence was gathered. */
export const UnsettledActionSchema = z.object({
  id: z.number().int(),
  service: z.string(),
  status: z.string(),
  verdict: z.string().nullable(),
});
/** An unsettled action. */
export type UnsettledAction = z.infer<typeof UnsettledActionSchema>;

/** What perceive assembled: the alert's world, reduced to evidence. */
export const IncidentContextSchema = z.object({
  services: z.array(z.string()),
  evidence: z.array(EvidenceSchema),
  signatures: z.record(z.string(), z.array(LogSignatureSchema)),
  /**
   * The read-tool calls perceive made: their results are stored once per incident (the
   * observations table), and the checkpointed context keeps only their references
   * (`<incident>#<perception>.<order>`, the same in any database an export is loaded into).
   */
  observationRefs: z.array(z.string()).default([]),
  /** The read-tool calls with their results inline, as contexts checkpointed before references held them. */
  observations: z.array(ToolObservationSchema).default([]),
  snapshot: SignalSnapshotSchema,
  gatheredAt: z.number(),
  /**
   * The newest action id Suture had recorded when this context was gathered: an action another
   * incident ran on the workload after it is a change this evidence has not seen.
   */
  actionWatermark: z.number().int().default(0),
  /**
   * Other incidents' actions that were under way (granted, running or not yet verified) when this
   * context was gathered: once one of them moves on, this evidence shows a workload mid-change.
   */
  unsettledActions: z.array(UnsettledActionSchema).default([]),
  /** The regression the watch opened this incident on (read from the store, never from the alert's text). */
  regression: RegressionFindingSchema.optional(),
});
/** The incident context. */
export type IncidentContext = z.infer<typeof IncidentContextSchema>;

/** How one remembered incident moved a candidate's confidence. */
export const MemoryContributionSchema = z.object({
  incidentId: z.string(),
  similarity: z.number(),
  verdict: z.string(),
  weight: z.number(),
});
/** A memory contribution. */
export type MemoryContribution = z.infer<typeof MemoryContributionSchema>;

/** A remediation a hypothesis proposes, in preference order. */
export const RemediationCandidateSchema = z.object({
  call: ToolCallSchema,
  rationale: z.string(),
  /** Strategy key: tool + target, so the same strategy is never tried twice. */
  strategy: z.string(),
  /** Confidence of acting with this candidate: the hypothesis' plus memory's adjustment. */
  confidence: z.number().optional(),
  /** Memory's adjustment and the past incidents behind it. */
  memoryDelta: z.number().optional(),
  memory: z.array(MemoryContributionSchema).optional(),
});
/** A remediation candidate. */
export type RemediationCandidate = z.infer<typeof RemediationCandidateSchema>;

/** A ranked explanation of the alert. */
export const HypothesisSchema = z.object({
  id: z.string(),
  faultClass: z.string(),
  /** Category decides what may be automated, e.g. `security` is never acted on. */
  category: z.string(),
  title: z.string(),
  confidence: z.number().min(0).max(1),
  evidenceIds: z.array(z.string()),
  reasoner: z.string(),
  /** `act` proposes remediation; `no-action` closes; `escalate` hands over to a human. */
  disposition: z.enum(["act", "no-action", "escalate"]),
  candidates: z.array(RemediationCandidateSchema),
  explanation: z.string(),
  /** Each reasoner's confidence in this fault class and its weight, when more than one proposed it. */
  contributions: z.array(z.object({ reasoner: z.string(), confidence: z.number(), weight: z.number() })).optional(),
  /** Why the hypothesis lost confidence: its stated readings contradict the signals. */
  inconsistencies: z.array(z.string()).optional(),
});
/** A hypothesis. */
export type Hypothesis = z.infer<typeof HypothesisSchema>;

/** The cause class an escalation names for the human, with the evidence for and against it (reasoners/likely-cause.ts). */
export const LikelyCauseSchema = z.object({
  /** A fault class, or "unknown" when no evidence points to a cause. */
  faultClass: z.string().min(1),
  score: z.number().min(0).max(1),
  /** Whether a hypothesis named it, the evidence table scored it, or nothing pointed anywhere. */
  basis: z.enum(["hypothesis", "evidence", "none"]),
  for: z.array(z.object({ id: z.string(), summary: z.string() })),
  against: z.array(z.string()),
  checkFirst: z.array(z.string()),
  runnersUp: z.array(z.object({ faultClass: z.string(), score: z.number().min(0).max(1) })).max(2),
});
/** A likely cause. */
export type LikelyCause = z.infer<typeof LikelyCauseSchema>;

/** What diagnose decided for this round. */
export const DiagnosisSchema = z.object({
  round: z.number().int(),
  hypotheses: z.array(HypothesisSchema),
  chosen: HypothesisSchema.nullable(),
  proposal: RemediationCandidateSchema.nullable(),
  confidence: z.number(),
  decision: z.enum(["act", "no-action", "escalate"]),
  reason: z.string(),
  /** Past incidents memory consulted, most similar first. */
  recalled: z.array(z.object({ incidentId: z.string(), similarity: z.number(), outcome: z.string(), remediation: z.string().nullable(), faultClass: z.string().nullable() })).default([]),
  /** The most similar imported runbook, suggested when no rule explains the alert. */
  runbook: z.object({ name: z.string(), similarity: z.number(), diagnosis: z.string(), mitigation: z.string() }).nullable().default(null),
  /** What reasoners reported besides hypotheses (a model fallback, discarded model output). */
  notes: z.array(z.string()).default([]),
  /** When diagnose escalates: the most likely cause class and what a human should check first. */
  likelyCause: LikelyCauseSchema.optional(),
});
/** A diagnosis. */
export type Diagnosis = z.infer<typeof DiagnosisSchema>;

/** One rule's finding for a call: which rule, what it found, and the threshold it compared with. */
export const PolicyCheckSchema = z.object({
  rule: z.string(),
  outcome: z.enum(["pass", "approval", "deny"]),
  detail: z.string(),
});
/** A policy rule's finding. */
export type PolicyCheck = z.infer<typeof PolicyCheckSchema>;

/** The policy's answer for one proposed call, with its reasons. */
export const PolicyVerdictSchema = z.object({
  outcome: z.enum(["allow", "needs_approval", "deny"]),
  /** The decisive findings (every deny, else every approval, else the confidence check). */
  reasons: z.array(z.string()),
  risk: z.string(),
  call: ToolCallSchema,
  /** Every rule's finding, for `suture policy explain`. */
  checks: z.array(PolicyCheckSchema).default([]),
  /** Hash of the policy that decided. */
  policyVersion: z.string().default(""),
  /** What the call touches (blast radius), when the tool says. */
  impact: z
    .object({ workloads: z.array(z.string()), replicasOutAtOnce: z.number(), replicas: z.number(), note: z.string() })
    .nullable()
    .default(null),
});
/** A policy verdict. */
export type PolicyVerdict = z.infer<typeof PolicyVerdictSchema>;

/** One remediation attempt: what ran, the rollback registered, the signals before and after. */
export const AttemptSchema = z.object({
  number: z.number().int(),
  call: ToolCallSchema,
  strategy: z.string(),
  /** Fault class of the hypothesis the attempt acted on (what memory learns against). */
  faultClass: z.string(),
  actionClass: z.string(),
  risk: z.string(),
  idempotencyKey: z.string(),
  actionId: z.number().int(),
  rollback: ToolCallSchema.nullable(),
  before: SignalSnapshotSchema,
  executedAt: z.number(),
  settleSeconds: z.number(),
  status: z.enum(["executed", "failed"]),
  error: z.string().optional(),
  after: SignalSnapshotSchema.optional(),
  verdict: z.enum(["recovered", "not_recovered", "worse"]).optional(),
  /** Why verify judged as it did (e.g. memory still climbing), for replanning and the brief. */
  verdictReasons: z.array(z.string()).optional(),
  rolledBack: z.boolean().default(false),
  /** The remembered incidents that moved this remedy's confidence, and what each said (their outcomes are judged by this attempt's verdict). */
  memory: z.array(MemoryContributionSchema).optional(),
  /** The Alertmanager silence muting the alert while this attempt settles (expired by verify). */
  silenceId: z.string().optional(),
  /** What verify saw each time it sampled the settle window: harm (noise-floor units) and whether all looked healthy. */
  samples: z.array(z.object({ at: z.number(), harm: z.number(), healthy: z.boolean(), lag: z.number().optional() })).optional(),
});
/** A remediation attempt. */
export type Attempt = z.infer<typeof AttemptSchema>;

/** One line of the incident's timeline, written by the node that decided it. */
export const TimelineEntrySchema = z.object({
  node: z.string(),
  at: z.number(),
  message: z.string(),
});
/** A timeline entry. */
export type TimelineEntry = z.infer<typeof TimelineEntrySchema>;

/** Where the incident ended, and why. */
export const OutcomeSchema = z.object({
  status: z.enum(["resolved", "escalated", "closed_no_action"]),
  reason: z.string(),
  at: z.number(),
});
/** An incident outcome. */
export type Outcome = z.infer<typeof OutcomeSchema>;
