import type { Queryable } from "./database.js";

/** An approval request and, once made, its decision. */
export interface ApprovalRow {
  id: number;
  incident_id: string;
  request_key: string;
  call: { tool: string; params: Record<string, unknown> };
  risk: string;
  reasons: string[];
  requested_at: Date;
  expires_at: Date;
  decision: "approved" | "rejected" | "expired" | null;
  approver: string | null;
  note: string | null;
  approved_call: { tool: string; params: Record<string, unknown> } | null;
  decided_at: Date | null;
}

/** An undecided approval request with what an approver needs to know about its incident. */
export type PendingApproval = ApprovalRow & {
  service: string;
  alert_name: string;
  expired: boolean;
  /** The incident this one replays, when it is a replay (approving a dry run executes nothing). */
  forked_from: string | null;
  replay_mode: "dry-run" | "live" | null;
};

const APPROVAL_COLUMNS = `id::int AS id, incident_id, request_key, call, risk, reasons, requested_at, expires_at, decision, approver, note, approved_call, decided_at`;

/** A request for a human decision on a proposed call. */
export interface NewApprovalRequest {
  incidentId: string;
  requestKey: string;
  call: unknown;
  risk: string;
  reasons: string[];
  timeoutMinutes: number;
}

/** Records an approval request once (a re-run step finds the existing one). */
export async function requestApproval(q: Queryable, input: NewApprovalRequest): Promise<ApprovalRow> {
  await q.query(
    `INSERT INTO approvals (incident_id, request_key, call, risk, reasons, expires_at)
     VALUES ($1, $2, $3, $4, $5, now() + make_interval(mins => $6)) ON CONFLICT (request_key) DO NOTHING`,
    [input.incidentId, input.requestKey, JSON.stringify(input.call), input.risk, JSON.stringify(input.reasons), input.timeoutMinutes],
  );
  const row = (await q.query<ApprovalRow>(`SELECT ${APPROVAL_COLUMNS} FROM approvals WHERE request_key = $1`, [input.requestKey])).rows[0];
  if (row === undefined) throw new Error(`approval request ${input.requestKey} vanished after insert`);
  return row;
}

/** The newest approval request of an incident, decided or not. */
export async function latestApproval(q: Queryable, incidentId: string): Promise<ApprovalRow | undefined> {
  return (await q.query<ApprovalRow>(`SELECT ${APPROVAL_COLUMNS} FROM approvals WHERE incident_id = $1 ORDER BY id DESC LIMIT 1`, [incidentId])).rows[0];
}

/**
 * Writes a decision on an undecided request; returns undefined when it was already decided,
 * so the same request can never be approved twice (even by two operators at once).
 */
export async function decideApproval(
  q: Queryable,
  requestKey: string,
  decision: "approved" | "rejected" | "expired",
  approver: string | null,
  note: string | null,
  approvedCall: unknown,
): Promise<ApprovalRow | undefined> {
  return (
    await q.query<ApprovalRow>(
      `UPDATE approvals SET decision = $2, approver = $3, note = $4, approved_call = $5, decided_at = now()
       WHERE request_key = $1 AND decision IS NULL
         AND EXISTS (SELECT 1 FROM incidents i WHERE i.id = approvals.incident_id AND i.status = 'awaiting_approval')
       RETURNING ${APPROVAL_COLUMNS}`,
      [requestKey, decision, approver, note, approvedCall === null ? null : JSON.stringify(approvedCall)],
    )
  ).rows[0];
}

/** Undecided approval requests, oldest first, with their incidents. */
export async function pendingApprovals(q: Queryable): Promise<Array<PendingApproval>> {
  return (
    await q.query<PendingApproval>(
      `SELECT a.id::int AS id, a.incident_id, a.request_key, a.call, a.risk, a.reasons, a.requested_at, a.expires_at, a.decision,
         a.approver, a.note, a.approved_call, a.decided_at, i.service, i.alert_name, a.expires_at < now() AS expired,
         i.forked_from, i.replay_mode
       FROM approvals a JOIN incidents i ON i.id = a.incident_id WHERE a.decision IS NULL AND i.status = 'awaiting_approval' ORDER BY a.requested_at, a.id`,
    )
  ).rows;
}

/** Every approval of an incident, in order. */
export async function approvalsFor(q: Queryable, incidentId: string): Promise<ApprovalRow[]> {
  return (await q.query<ApprovalRow>(`SELECT ${APPROVAL_COLUMNS} FROM approvals WHERE incident_id = $1 ORDER BY id`, [incidentId])).rows;
}
