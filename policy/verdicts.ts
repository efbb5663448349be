import type { IncidentStore } from "../store/incident-store.js";
import { PolicyVerdictSchema, type PolicyVerdict } from "../domain/model.js";

/** A verdict as the audit log recorded it: the proposal's, or the re-check after a human approved. */
export interface RecordedVerdict {
  verdict: PolicyVerdict;
  /** `proposed`, or who approved it. */
  source: "proposed" | { approvedBy: string };
}

/** Every policy verdict of an incident, in order, read back from its audit log. */
export async function recordedVerdicts(store: IncidentStore, incidentId: string): Promise<RecordedVerdict[]> {
  return (await store.auditFor(incidentId)).flatMap((entry): RecordedVerdict[] => {
    if (entry.kind !== "policy_verdict" && entry.kind !== "approval") return [];
    const detail = entry.kind === "approval" ? (entry.detail as { verdict?: unknown }).verdict : entry.detail;
    const parsed = PolicyVerdictSchema.safeParse(detail);
    if (!parsed.success) return [];
    return [{ verdict: parsed.data, source: entry.kind === "approval" ? { approvedBy: entry.actor } : "proposed" }];
  });
}

/** The verdicts policy-check reached on proposals (not the re-checks after approval). */
export async function proposalVerdicts(store: IncidentStore, incidentId: string): Promise<PolicyVerdict[]> {
  return (await recordedVerdicts(store, incidentId)).filter((r) => r.source === "proposed").map((r) => r.verdict);
}
