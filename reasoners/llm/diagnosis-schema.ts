import { z } from "zod";

/** One remediation the model proposes, by registered tool name. */
export const ModelRemediationSchema = z.object({
  tool: z.string().describe("a registered remediation tool name, exactly as listed"),
  params: z.record(z.string(), z.unknown()).describe("parameters matching that tool's parameter schema"),
  rationale: z.string().describe("why this fixes the fault, citing the evidence"),
});

/** A reading the model states from the signals; Suture checks it against what the tools returned. */
export const ModelReadingSchema = z.object({
  service: z.string(),
  metric: z.string().describe("a signal name exactly as listed under Signals, e.g. error_rate"),
  trend: z.enum(["rising", "falling", "steady"]).describe("against its baseline, or since the last attempt when one was made"),
});

/** One ranked explanation from the model. */
export const ModelHypothesisSchema = z.object({
  faultClass: z.string().min(1).describe("short kebab-case fault class, e.g. bad-rollout, memory-leak"),
  category: z.string().min(1).describe("deployment, resources, networking, configuration, data-plane, availability, security, data-corruption, compliance or certificate"),
  title: z.string().min(1),
  confidence: z.number().min(0).max(1).describe("your confidence that this explains the alert, 0 to 1"),
  evidenceIds: z.array(z.string()).describe("ids of the evidence items this rests on, exactly as given"),
  disposition: z.enum(["act", "no-action", "escalate"]).describe("act: remediate; no-action: nothing is wrong; escalate: humans must handle it"),
  remediations: z.array(ModelRemediationSchema).describe("in preference order; empty unless disposition is act"),
  readings: z.array(ModelReadingSchema).default([]).describe("the signal movements this hypothesis relies on"),
  explanation: z.string(),
});

/** What the model must return: ranked hypotheses, best first. */
export const ModelDiagnosisSchema = z.object({
  hypotheses: z.array(ModelHypothesisSchema).max(5),
});
/** The model's diagnosis, validated. */
export type ModelDiagnosis = z.infer<typeof ModelDiagnosisSchema>;
/** One model hypothesis. */
export type ModelHypothesis = z.infer<typeof ModelHypothesisSchema>;

/** The JSON schema sent to the model (validation is ours, with zod, so a server cannot loosen it). */
export const MODEL_DIAGNOSIS_JSON_SCHEMA = z.toJSONSchema(ModelDiagnosisSchema) as Record<string, unknown>;

/** What the classification model returns: the evidence that matters most, and a fault category. */
export const ModelClassificationSchema = z.object({
  category: z.string().describe("deployment, resources, networking, configuration, data-plane, availability, security, data-corruption, compliance or certificate"),
  relevantEvidenceIds: z.array(z.string()).max(12).describe("ids exactly as given, most important first"),
});
/** The JSON schema sent to the classification model. */
export const MODEL_CLASSIFICATION_JSON_SCHEMA = z.toJSONSchema(ModelClassificationSchema) as Record<string, unknown>;
