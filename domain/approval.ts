import { z } from "zod";
import { ToolCallSchema } from "./model.js";

/** What a human is asked to decide (the `interrupt()` payload, also shown by `suture pending`). */
export const ApprovalRequestSchema = z.object({
  kind: z.literal("approval"),
  requestKey: z.string(),
  incidentId: z.string(),
  call: ToolCallSchema,
  risk: z.string(),
  confidence: z.number(),
  reasons: z.array(z.string()),
  hypotheses: z.array(z.object({ faultClass: z.string(), title: z.string(), confidence: z.number() })),
  evidence: z.array(z.string()),
  blastRadius: z.string(),
  rollback: z.string(),
  ifNobodyAnswers: z.string(),
  expiresAt: z.string(),
});
/** An approval request. */
export type ApprovalRequest = z.infer<typeof ApprovalRequestSchema>;

/** The human's answer, passed back with `new Command({ resume })`. */
export const ApprovalAnswerSchema = z.object({
  decision: z.enum(["approved", "rejected", "expired"]),
  approver: z.string().nullable(),
  note: z.string().nullable(),
  /** The call to run: the proposal, possibly with parameters changed by `--set`. */
  call: ToolCallSchema.nullable(),
  at: z.string(),
});
/** An approval answer. */
export type ApprovalAnswer = z.infer<typeof ApprovalAnswerSchema>;

/** The approval request a paused graph waits on, from its pending tasks' interrupts (undefined when it is not paused for one). */
export function awaitedApproval(snapshot: { tasks: ReadonlyArray<{ interrupts: ReadonlyArray<{ value?: unknown }> }> }): ApprovalRequest | undefined {
  for (const task of snapshot.tasks) {
    for (const i of task.interrupts) {
      const parsed = ApprovalRequestSchema.safeParse(i.value);
      if (parsed.success) return parsed.data;
    }
  }
  return undefined;
}
