import { z } from "zod";
import type { WorkloadRef } from "./deploys.js";

/**
 * What the regression watch found about one deploy, as the store keeps it and the incident graph
 * reads it (docs/regression-watch.md). Written by the watch only: alert text or log lines never
 * create or widen one.
 */

/** Where a deploy's watch stands: still looking, or its final verdict. */
export type WatchStatus = "watching" | "clean" | "regression" | "recorded" | "skipped";

/** Every status a watch can have, for schemas and counters. */
export const WATCH_STATUSES: readonly WatchStatus[] = ["watching", "clean", "regression", "recorded", "skipped"];

/** One error signature the watch flagged after a deploy. */
export const FlaggedSignatureSchema = z.object({
  signature: z.string(),
  observed: z.number(),
  /** The baseline's expected count over the same window, scaled for today's traffic. */
  expected: z.number(),
  rateRatio: z.number(),
  p: z.number(),
  q: z.number(),
  /** False for a signature the baseline never saw. */
  seenBefore: z.boolean(),
  /** A few of the lines behind it, redacted (untrusted text: matched against, never followed). */
  exemplars: z.array(z.string()),
});
/** A flagged signature. */
export type FlaggedSignature = z.infer<typeof FlaggedSignatureSchema>;

/** How sure triage is that the deploy's change caused the errors. */
export const LinkConfidenceSchema = z.enum(["none", "low", "medium", "high"]);
/** A link confidence. */
export type LinkConfidence = z.infer<typeof LinkConfidenceSchema>;

/** Triage of a deploy's changed files against the flagged signatures. */
export const RegressionTriageSchema = z.object({
  isRuntimeChange: z.boolean(),
  causalLink: z.boolean(),
  confidence: LinkConfidenceSchema,
  score: z.number(),
  evidence: z.array(z.string()),
  migration: z.boolean(),
  contractChange: z.boolean(),
  rollbackSafe: z.boolean(),
  suspects: z.array(z.object({ path: z.string(), kind: z.string(), reasons: z.array(z.string()), hunks: z.array(z.string()) })),
});
/** A triage verdict. */
export type RegressionTriage = z.infer<typeof RegressionTriageSchema>;

/** A candidate regression with its triage: what a regression incident is opened on. */
export const RegressionFindingSchema = z.object({
  deployId: z.number().int(),
  workload: z.object({ namespace: z.string(), name: z.string() }),
  version: z.string(),
  /** When the deploy happened (ISO 8601). */
  deployAt: z.string(),
  /** The window the counts cover (epoch ms). */
  window: z.object({ from: z.number(), to: z.number() }),
  flagged: z.array(FlaggedSignatureSchema),
  triage: RegressionTriageSchema,
});
/** A regression finding. */
export type RegressionFinding = z.infer<typeof RegressionFindingSchema>;

/** One deploy's watch, as stored. */
export interface RegressionWatch {
  deployId: number;
  workload: WorkloadRef;
  version: string;
  deployAt: Date;
  source: "webhook" | "cluster";
  /** '' for the cluster Suture runs against; a scenario run's own scope for a simulated world. */
  scope: string;
  status: WatchStatus;
  looks: number;
  /** Environment time of the last look (epoch ms), null before the first. */
  lastLookAt: number | null;
  /** Why the watch stands where it does, in one line. */
  reason: string;
  finding: RegressionFinding | null;
  incidentId: string | null;
}
