import { audit } from "../store/audit.js";
import { withTransaction, type Database } from "../store/database.js";
import { deadLetterIncident, recordJobError, requeueDeadLetter } from "../store/incidents.js";
import type { IncidentQueue } from "../store/queue.js";
import type { Suture } from "./suture.js";

/**
 * Queues a dead-lettered incident again (after its cause was fixed), audited, in one transaction
 * with its job; false when the incident is not dead-lettered.
 */
export async function retryDeadLetter(db: Database, queue: IncidentQueue, incidentId: string, by = "operator"): Promise<boolean> {
  return withTransaction(db, async (client) => {
    if (!(await requeueDeadLetter(client, incidentId))) return false;
    await audit(client, { incidentId, actor: by, kind: "retry", summary: "dead-lettered incident queued again" });
    await queue.enqueue({ incidentId, reason: "retry" }, client);
    return true;
  });
}

/** Records why an incident's job failed (a retry follows; the dead letter will quote it). */
export async function recordJobFailure(suture: Suture, incidentId: string, message: string): Promise<void> {
  await recordJobError(suture.db.pool, incidentId, message);
}

/** Marks an incident whose job failed on every retry as dead-lettered, audited with its last error; nothing when it had already ended. */
export async function deadLetter(suture: Suture, incidentId: string, jobId: string): Promise<void> {
  const dead = await deadLetterIncident(suture.db.pool, incidentId);
  if (dead === undefined) return;
  await suture.store.audit({
    incidentId,
    actor: "worker",
    kind: "dead_letter",
    summary: `job failed on every retry; last error: ${dead.lastError ?? "unknown (the worker died)"}`,
    dedupeKey: `${incidentId}:dead-letter:${jobId}`,
  });
}
