import { ReducedValue, StateSchema } from "@langchain/langgraph";
import { z } from "zod";
import { AlertSchema } from "../domain/alerts/alert.js";
import { AttemptSchema, DiagnosisSchema, IncidentContextSchema, OutcomeSchema, PolicyVerdictSchema, TimelineEntrySchema, type Attempt } from "../domain/model.js";

/** Merges attempts by number so a node can amend the attempt it owns. */
function mergeAttempts(current: Attempt[], update: Attempt[]): Attempt[] {
  const byNumber = new Map(current.map((a) => [a.number, a]));
  for (const a of update) byNumber.set(a.number, a);
  return [...byNumber.values()].sort((a, b) => a.number - b.number);
}

/** The incident graph's state; thread id = incident id. */
export const IncidentState = new StateSchema({
  incidentId: z.string(),
  alert: AlertSchema,
  context: IncidentContextSchema.nullable().default(null),
  diagnosis: DiagnosisSchema.nullable().default(null),
  diagnoses: new ReducedValue(
    z.array(DiagnosisSchema).default(() => []),
    {
      inputSchema: z.array(DiagnosisSchema),
      reducer: (current, update) => [...current, ...update],
    },
  ),
  verdict: PolicyVerdictSchema.nullable().default(null),
  attempts: new ReducedValue(
    z.array(AttemptSchema).default(() => []),
    {
      inputSchema: z.array(AttemptSchema),
      reducer: mergeAttempts,
    },
  ),
  timeline: new ReducedValue(
    z.array(TimelineEntrySchema).default(() => []),
    {
      inputSchema: z.array(TimelineEntrySchema),
      reducer: (current, update) => [...current, ...update],
    },
  ),
  outcome: OutcomeSchema.nullable().default(null),
  /** Model tokens and estimated cost spent on this incident (counts against policy.guardrails). */
  usage: new ReducedValue(
    z.object({ modelTokens: z.number(), modelCostUsd: z.number() }).default(() => ({ modelTokens: 0, modelCostUsd: 0 })),
    {
      inputSchema: z.object({ modelTokens: z.number(), modelCostUsd: z.number() }),
      reducer: (current, update) => ({ modelTokens: current.modelTokens + update.modelTokens, modelCostUsd: current.modelCostUsd + update.modelCostUsd }),
    },
  ),
  /** The last human decision on a proposed action. */
  approval: z.object({ requestKey: z.string(), decision: z.string(), approver: z.string().nullable(), note: z.string().nullable(), at: z.string() }).nullable().default(null),
});

/** The full incident state. */
export type IncidentStateValue = typeof IncidentState.State;
/** A partial update a node returns. */
export type IncidentStateUpdate = typeof IncidentState.Update;
