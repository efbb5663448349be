import type { ApprovalAnswer } from "../domain/approval.js";
import { canonicalJson } from "../domain/json.js";
import type { ToolCall } from "../domain/model.js";
import { resumeIncident, type RunOptions, type RunResult } from "./advance.js";
import type { Suture } from "./suture.js";
import { ConflictError, InvalidInputError } from "../domain/errors.js";

/** Thrown for a decision whose own input is wrong (`--set`, `--as`); nothing was changed. */
export class InvalidDecisionError extends InvalidInputError {
  constructor(message: string) {
    super(message);
    this.name = "InvalidDecisionError";
  }
}

/** Thrown for a decision the incident cannot take now (decided, expired, not waiting); nothing was changed. */
export class DecisionConflictError extends ConflictError {
  constructor(message: string) {
    super(message);
    this.name = "DecisionConflictError";
  }
}

/** A human decision on an incident's pending request. */
export interface Decision {
  decision: "approved" | "rejected";
  approver: string;
  note?: string;
  /** `--set key=value` overrides of the proposed call's parameters. */
  set?: string[];
}

/** `key=value` with the value read as JSON when it parses (numbers, booleans), else as text. */
function parseAssignment(assignment: string): [string, unknown] {
  const eq = assignment.indexOf("=");
  if (eq <= 0) throw new InvalidDecisionError(`--set ${assignment}: expected key=value`);
  const key = assignment.slice(0, eq);
  const raw = assignment.slice(eq + 1);
  try {
    return [key, JSON.parse(raw) as unknown];
  } catch {
    return [key, raw];
  }
}

function applySet(suture: Suture, call: ToolCall, set: string[]): ToolCall {
  if (set.length === 0) return call;
  const params = { ...call.params };
  for (const assignment of set) {
    const [key, value] = parseAssignment(assignment);
    if (!Object.hasOwn(params, key)) {
      throw new InvalidDecisionError(`--set ${key}: ${call.tool} has no parameter "${key}"; parameters: ${Object.keys(params).join(", ")}`);
    }
    params[key] = value;
  }
  const changed = { tool: call.tool, params };
  const parsed = suture.tools.parseCall(changed);
  if (!parsed.ok) throw new InvalidDecisionError(`--set: ${call.tool} ${parsed.error}`);
  return { tool: call.tool, params: parsed.params };
}

/**
 * Records a human decision on an incident awaiting approval, without resuming it (a worker
 * resumes it from the queue). Every check happens before anything is written, and the decision
 * is written at most once per request.
 */
export async function recordDecision(suture: Suture, incidentId: string, decision: Decision): Promise<ApprovalAnswer> {
  const incident = await suture.store.getIncident(incidentId);
  const request = await suture.store.latestApproval(incidentId);
  if (request?.decision != null) {
    throw new DecisionConflictError(
      `incident "${incidentId}": ${request.call.tool} was already ${request.decision} by ${request.approver ?? "timeout"} at ${request.decided_at?.toISOString() ?? "?"}`,
    );
  }
  if (incident.status !== "awaiting_approval" || request === undefined) {
    throw new DecisionConflictError(`incident "${incidentId}" is not awaiting approval (status: ${incident.status})`);
  }
  if (request.expires_at.getTime() < Date.now()) {
    throw new DecisionConflictError(`the approval request for incident "${incidentId}" expired at ${request.expires_at.toISOString()}; \`suture tick\` escalates it`);
  }
  if (decision.approver.trim() === "") throw new InvalidDecisionError("--as: expected the name of the person deciding");
  const call = decision.decision === "approved" ? applySet(suture, request.call, decision.set ?? []) : null;
  const written = await suture.store.decideApproval(request.request_key, decision.decision, decision.approver, decision.note ?? null, call);
  if (written === undefined) throw new DecisionConflictError(`incident "${incidentId}": the request was decided by someone else a moment ago`);
  await suture.store.audit({
    incidentId,
    actor: decision.approver,
    kind: decision.decision === "approved" ? "approval_decision" : "rejection",
    summary: `${decision.decision} ${request.call.tool}${call !== null && canonicalJson(call) !== canonicalJson(request.call) ? ` as ${JSON.stringify(call.params)}` : ""}${decision.note ? `: ${decision.note}` : ""}`,
    detail: { requestKey: request.request_key, call },
    dedupeKey: `${request.request_key}:decision`,
  });
  const answer: ApprovalAnswer = {
    decision: decision.decision,
    approver: decision.approver,
    note: decision.note ?? null,
    call,
    at: (written.decided_at ?? new Date()).toISOString(),
  };
  return answer;
}

/**
 * Records a human decision on an incident awaiting approval and resumes its graph from the
 * checkpoint in this process (whichever process paused it).
 */
export async function decide(suture: Suture, incidentId: string, decision: Decision, options: RunOptions = {}): Promise<RunResult> {
  const answer = await recordDecision(suture, incidentId, decision);
  return resumeIncident(suture, incidentId, options, answer);
}

/**
 * Escalates every incident whose approval request expired unanswered; returns their ids. By
 * default each is resumed here; a worker passes `resume` to queue them instead.
 */
export async function expireApprovals(suture: Suture, options: RunOptions = {}, resume?: (incidentId: string) => Promise<void>): Promise<string[]> {
  const expired = (await suture.store.pendingApprovals()).filter((p) => p.expired);
  const done: string[] = [];
  for (const p of expired) {
    const written = await suture.store.decideApproval(p.request_key, "expired", null, "no answer before the deadline", null);
    if (written === undefined) continue;
    await suture.store.audit({
      incidentId: p.incident_id,
      actor: "suture",
      kind: "approval_expired",
      summary: `approval of ${p.call.tool} expired at ${p.expires_at.toISOString()}`,
      dedupeKey: `${p.request_key}:decision`,
    });
    if (resume !== undefined) await resume(p.incident_id);
    else await resumeIncident(suture, p.incident_id, options, { decision: "expired", approver: null, note: null, call: null, at: new Date().toISOString() });
    done.push(p.incident_id);
  }
  return done;
}
