import { KubernetesConflictError } from "./api-errors.js";
import { findActionRecord, recordActionOps, resourceVersionTest, type JsonPatchOp } from "./action-records.js";
import type { AdapterContext } from "./context.js";
import { describeObjectChange } from "./diff.js";
import { dryRunThenApply } from "./dry-run.js";
import { patchWorkload, readWorkload, workloadRequest, type WorkloadObject } from "./workloads.js";
import type { WorkloadRef } from "./workload-ref.js";

/** One change to a workload object: the operations that make it and how to tell it is already made. */
export interface WorkloadChange {
  /** Contract operation name recorded in `suture.dev/actions`, e.g. "rolloutUndo". */
  op: string;
  key: string;
  /** True when the workload already is what the change would make it (then nothing is sent). */
  reached(workload: WorkloadObject): boolean;
  /** The JSON Patch operations of the change, from the workload as read (without precondition or record). */
  ops(workload: WorkloadObject): JsonPatchOp[];
}

/**
 * Applies a change to a workload once per key: skipped when the object already carries the key's
 * record or is already at the target; otherwise one JSON patch holding the resourceVersion
 * precondition, the change and its record, sent as a dry run and then for real. When the object
 * changed in between (409), it is read again: at the target (or recorded) counts as done, anything
 * else is a {@link KubernetesConflictError} naming what changed — never a blind retry.
 */
export async function changeWorkloadOnce(context: AdapterContext, ref: WorkloadRef, change: WorkloadChange): Promise<void> {
  const read = await readWorkload(context.apis, ref);
  if (findActionRecord(read.metadata, change.key) !== undefined || change.reached(read)) return;
  const ops = [...resourceVersionTest(read.metadata), ...change.ops(read), ...recordActionOps(read.metadata, { key: change.key, op: change.op, at: context.clock.now() })];
  const request = workloadRequest(ref, "patch");
  const outcome = await dryRunThenApply(request, (dryRun) => patchWorkload(context.apis, ref, ops, dryRun, context.fieldManager));
  if (outcome.applied) return;
  const fresh = await readWorkload(context.apis, ref);
  if (findActionRecord(fresh.metadata, change.key) !== undefined || change.reached(fresh)) return;
  throw new KubernetesConflictError(request, describeObjectChange(read, fresh));
}

/** Writes only the record of an action on a workload (after a change made through a subresource), re-reading on a conflict. */
export async function recordOnWorkload(context: AdapterContext, ref: WorkloadRef, op: string, key: string): Promise<void> {
  const request = workloadRequest(ref, "patch");
  // Bookkeeping, not the change itself: re-reading and re-appending on a conflict loses nothing.
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const read = await readWorkload(context.apis, ref);
    if (findActionRecord(read.metadata, key) !== undefined) return;
    const ops = [...resourceVersionTest(read.metadata), ...recordActionOps(read.metadata, { key, op, at: context.clock.now() })];
    const outcome = await dryRunThenApply(request, (dryRun) => patchWorkload(context.apis, ref, ops, dryRun, context.fieldManager));
    if (outcome.applied) return;
  }
  throw new KubernetesConflictError(request, "the record of the applied action could not be written after 3 reads; the change itself was applied");
}
