import { awaitedApproval } from "../domain/approval.js";
import { awaitedSettle } from "../domain/settle.js";
import { TERMINAL_STATUSES, type IncidentStatus } from "../domain/incident.js";
import type { Suture } from "./suture.js";

/** What an operator runs next for a paused or interrupted incident, and why; `command` null: nothing to run. */
export interface OperatorStep {
  /** answer: approve or reject; tick: escalate an expired request; wait: a worker continues it at a set time; none: nothing to run. */
  kind: "answer" | "tick" | "resume" | "retry" | "wait" | "none";
  command: string | null;
  why: string;
}

/** The facts {@link operatorStep} decides from. */
export interface ThreadPosition {
  /** The incident row's status. */
  status: IncidentStatus;
  /** The last checkpoint's next nodes and pending tasks (both empty: the graph finished). */
  next: readonly string[];
  tasks: readonly unknown[];
  /** The tool the graph is paused for approval of, when it is paused at an approval. */
  awaitingApprovalOf?: string;
  /** The settle wait the graph is paused in (its action settling on the wall clock), if any. */
  settling?: { tool: string; until: string };
  /** The incident's latest approval request. */
  approval?: { decision: "approved" | "rejected" | "expired" | null; expiresAt: Date };
  /** Now, wall-clock (approval deadlines are wall-clock). */
  now?: Date;
}

/**
 * The one decision of what an operator runs next for an incident, used by `suture history`'s hint
 * and by `suture resume`'s refusal, so the two can never name different commands. It mirrors what
 * each command accepts: `resume` continues a thread unless it is paused at an approval nobody
 * answered; `approve`/`reject` refuse an expired request (`tick` escalates it); `retry` is what
 * re-queues a dead-lettered incident.
 */
export function operatorStep(incidentId: string, p: ThreadPosition): OperatorStep {
  if (p.next.length === 0 && p.tasks.length === 0) return { kind: "none", command: null, why: "the incident's graph finished" };
  if (p.status === "dead_letter") return { kind: "retry", command: `suture retry ${incidentId}`, why: "its job was dead-lettered" };
  if (TERMINAL_STATUSES.includes(p.status)) return { kind: "none", command: null, why: `the incident was closed as ${p.status}` };
  if (p.settling !== undefined) {
    return { kind: "wait", command: null, why: `${p.settling.tool} is settling; a worker continues it at ${p.settling.until}` };
  }
  const tool = p.awaitingApprovalOf;
  if (tool !== undefined && p.approval?.decision == null) {
    const expiresAt = p.approval?.expiresAt;
    if (expiresAt !== undefined && expiresAt.getTime() < (p.now ?? new Date()).getTime()) {
      return { kind: "tick", command: "suture tick", why: `the approval request for ${tool} expired unanswered at ${expiresAt.toISOString()}; tick escalates it` };
    }
    return { kind: "answer", command: `suture approve|reject ${incidentId} --as <you>`, why: `it is awaiting approval of ${tool}` };
  }
  if (tool !== undefined) return { kind: "resume", command: `suture resume ${incidentId}`, why: `${tool} was ${p.approval?.decision ?? "decided"} but the incident has not resumed since` };
  return { kind: "resume", command: `suture resume ${incidentId}`, why: "it was interrupted mid-run" };
}

/** One line for people: why, and the command to run (or that there is nothing to run). */
export function describeOperatorStep(step: OperatorStep): string {
  return step.command !== null ? `${step.why}; run \`${step.command}\`` : `${step.why}; nothing to run`;
}

/** {@link operatorStep} for a stored incident: its row, its last checkpoint and its latest approval request. */
export async function nextOperatorStep(suture: Suture, incidentId: string): Promise<OperatorStep> {
  const { status } = await suture.store.getIncident(incidentId);
  const snapshot = await suture.graph.getState({ configurable: { thread_id: incidentId } });
  const awaitingApproval = awaitedApproval(snapshot);
  const settling = awaitedSettle(snapshot);
  const row = awaitingApproval !== undefined ? await suture.store.latestApproval(incidentId) : undefined;
  return operatorStep(incidentId, {
    status,
    next: snapshot.next,
    tasks: snapshot.tasks,
    ...(awaitingApproval !== undefined ? { awaitingApprovalOf: awaitingApproval.call.tool } : {}),
    ...(settling !== undefined ? { settling: { tool: settling.tool, until: settling.until } } : {}),
    ...(row !== undefined ? { approval: { decision: row.decision, expiresAt: row.expires_at } } : {}),
  });
}
