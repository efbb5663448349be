import { InvalidInputError } from "../../domain/errors.js";
import { call, KubernetesConflictError, type ApiRequest } from "./api-errors.js";
import { findActionRecord, recordActionOps, resourceVersionTest, type JsonPatchOp } from "./action-records.js";
import type { AdapterContext } from "./context.js";
import { describeObjectChange } from "./diff.js";
import { dryRunThenApply } from "./dry-run.js";
import { JSON_PATCH } from "./workloads.js";

/** The bounds of a HorizontalPodAutoscaler a remediation may change. */
export interface AutoscalerBounds {
  minReplicas?: number;
  maxReplicas?: number;
}

/**
 * Sets a HorizontalPodAutoscaler's replica bounds once per key (for a later remediation: a scale
 * of an autoscaled workload must move the HPA, or the HPA undoes it). Same discipline as every
 * write: resourceVersion precondition, record in the same patch, dry run first, re-validate on 409.
 */
export async function patchAutoscalerBounds(context: AdapterContext, namespace: string, name: string, bounds: AutoscalerBounds, key: string): Promise<void> {
  if (bounds.minReplicas === undefined && bounds.maxReplicas === undefined) throw new InvalidInputError(`HorizontalPodAutoscaler ${namespace}/${name}: give minReplicas, maxReplicas or both`);
  const request: ApiRequest = { verb: "patch", group: "autoscaling", resource: "horizontalpodautoscalers", namespace, name };
  const get = { ...request, verb: "get" as const };
  const read = await call(get, () => context.apis.autoscaling.readNamespacedHorizontalPodAutoscaler({ name, namespace }));
  const reached = (spec: { minReplicas?: number; maxReplicas?: number } | undefined): boolean =>
    (bounds.minReplicas === undefined || spec?.minReplicas === bounds.minReplicas) && (bounds.maxReplicas === undefined || spec?.maxReplicas === bounds.maxReplicas);
  if (findActionRecord(read.metadata, key) !== undefined || reached(read.spec)) return;
  const ops: JsonPatchOp[] = [
    ...resourceVersionTest(read.metadata),
    ...(bounds.minReplicas !== undefined ? [{ op: "add" as const, path: "/spec/minReplicas", value: bounds.minReplicas }] : []),
    ...(bounds.maxReplicas !== undefined ? [{ op: "replace" as const, path: "/spec/maxReplicas", value: bounds.maxReplicas }] : []),
    ...recordActionOps(read.metadata, { key, op: "patchAutoscalerBounds", at: context.clock.now() }),
  ];
  const outcome = await dryRunThenApply(request, (dryRun) =>
    context.apis.autoscaling.patchNamespacedHorizontalPodAutoscaler({ name, namespace, body: ops, fieldManager: context.fieldManager, ...(dryRun ? { dryRun: "All" } : {}) }, JSON_PATCH),
  );
  if (outcome.applied) return;
  const fresh = await call(get, () => context.apis.autoscaling.readNamespacedHorizontalPodAutoscaler({ name, namespace }));
  if (findActionRecord(fresh.metadata, key) !== undefined || reached(fresh.spec)) return;
  throw new KubernetesConflictError(request, describeObjectChange(read, fresh));
}
