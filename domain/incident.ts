/**
 * An incident's lifecycle as a status machine: a new incident is queued; a worker (or the CLI)
 * runs it; it may pause for a human and run again, or wait in the queue while its action settles
 * on the wall clock (`verifying`); it ends in one terminal status. A
 * dead-lettered incident can be queued again (`suture retry`). `open` is the first status of
 * incidents stored before the single create path existed; it behaves like `queued`.
 */
export type IncidentStatus = "queued" | "open" | "running" | "awaiting_approval" | "verifying" | "resolved" | "escalated" | "closed_no_action" | "resolved_by_source" | "dead_letter";

/** Statuses after which nothing more happens to an incident. */
export const TERMINAL_STATUSES: readonly IncidentStatus[] = ["resolved", "escalated", "closed_no_action", "resolved_by_source", "dead_letter"];

/** Statuses of an incident that new notifications for its fingerprint attach to. */
export const OPEN_STATUSES: readonly IncidentStatus[] = ["queued", "open", "running", "awaiting_approval", "verifying"];

/** The status every incident starts in. */
export const INITIAL_STATUS: IncidentStatus = "queued";

const CLOSING: IncidentStatus[] = ["resolved", "escalated", "closed_no_action"];

/**
 * Which status may follow which. Writing the status an incident already has is always allowed
 * (a step re-run after a crash writes the same thing again).
 */
export const TRANSITIONS: Readonly<Record<IncidentStatus, readonly IncidentStatus[]>> = {
  // A replay resumed after perceive goes from queued to policy-check's outcome directly.
  queued: ["running", "awaiting_approval", "resolved_by_source", "dead_letter", ...CLOSING],
  open: ["running", "awaiting_approval", "resolved_by_source", "dead_letter", ...CLOSING],
  running: ["awaiting_approval", "verifying", "dead_letter", ...CLOSING],
  awaiting_approval: ["running", "resolved_by_source", "dead_letter", ...CLOSING],
  // Waiting for an action to settle: verification decides, so a source's "resolved" never closes it.
  verifying: ["running", "dead_letter", ...CLOSING],
  resolved: [],
  escalated: [],
  closed_no_action: [],
  resolved_by_source: [],
  dead_letter: ["queued"],
};

/** Whether an incident in status `from` may move to `to`. */
export function canTransition(from: IncidentStatus, to: IncidentStatus): boolean {
  return from === to || TRANSITIONS[from].includes(to);
}

/** The statuses an incident may be in to move to `to`. */
export function statusesBefore(to: IncidentStatus): IncidentStatus[] {
  return (Object.keys(TRANSITIONS) as IncidentStatus[]).filter((from) => canTransition(from, to));
}
