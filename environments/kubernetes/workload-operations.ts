import type { V1PodTemplateSpec, V1Scale } from "@kubernetes/client-node";
import { canonicalJson } from "../../domain/json.js";
import { InvalidInputError } from "../../domain/errors.js";
import { EnvironmentNotFoundError } from "../adapter.js";
import { KubernetesConflictError } from "./api-errors.js";
import { findActionRecord, resourceVersionTest, setAnnotationOps, type JsonPatchOp } from "./action-records.js";
import type { AdapterContext } from "./context.js";
import { replicaSetsOf } from "./owners.js";
import { selectorToQuery } from "./selectors.js";
import { describeObjectChange } from "./diff.js";
import { dryRunThenApply } from "./dry-run.js";
import { memoryMib } from "./quantity.js";
import { revisionOf } from "./translate.js";
import { JSON_PATCH, readWorkload, replicaCounts, workloadRequest } from "./workloads.js";
import { changeWorkloadOnce, recordOnWorkload } from "./workload-patch.js";
import type { WorkloadRef } from "./workload-ref.js";
import { toWire } from "./wire.js";

/** The label the Deployment controller adds to each ReplicaSet's template; not part of the revision. */
const POD_TEMPLATE_HASH = "pod-template-hash";
/** The template annotation `kubectl rollout restart` sets; changing it rolls every pod. */
const RESTARTED_AT = "kubectl.kubernetes.io/restartedAt";

/** A pod template as API JSON without the controller's hash label: what `kubectl rollout undo` writes back. */
export function revisionTemplate(template: V1PodTemplateSpec | undefined): Record<string, unknown> {
  const wire = toWire(template ?? {}, "V1PodTemplateSpec") as { metadata?: { labels?: Record<string, string> } };
  const labels = wire.metadata?.labels;
  if (labels !== undefined) delete labels[POD_TEMPLATE_HASH];
  return wire;
}

/** `kubectl rollout undo --to-revision`: the Deployment's template becomes the target ReplicaSet's. */
export async function rolloutUndo(context: AdapterContext, ref: WorkloadRef, service: string, toRevision: number, key: string): Promise<void> {
  if (ref.kind !== "Deployment") throw new InvalidInputError(`rollout undo of ${ref.kind} ${ref.name}: only Deployments keep their revisions in ReplicaSets Suture can read; roll it back by hand`);
  const workload = await readWorkload(context.apis, ref);
  if (findActionRecord(workload.metadata, key) !== undefined) return;
  const selector = workload.spec?.selector;
  const uid = workload.metadata?.uid;
  const replicaSets = await replicaSetsOf(context.apis, ref.namespace, {
    name: ref.name,
    ...(uid !== undefined ? { uid } : {}),
    labelSelector: selector === undefined ? "" : selectorToQuery(selector),
  });
  const target = replicaSets.find((rs) => revisionOf(rs.metadata?.annotations) === toRevision);
  if (target === undefined) {
    const known = replicaSets.map((rs) => revisionOf(rs.metadata?.annotations)).sort((a, b) => a - b);
    throw new EnvironmentNotFoundError(`revision of ${service}`, String(toRevision), known.map(String));
  }
  const targetTemplate = revisionTemplate(target.spec?.template);
  await changeWorkloadOnce(context, ref, {
    op: "rolloutUndo",
    key,
    reached: (w) => canonicalJson(revisionTemplate(w.spec?.template)) === canonicalJson(targetTemplate),
    ops: () => [{ op: "replace", path: "/spec/template", value: targetTemplate }],
  });
}

/** `kubectl rollout restart`: a new restartedAt annotation on the template rolls every pod. */
export async function restartPods(context: AdapterContext, ref: WorkloadRef, key: string): Promise<void> {
  await changeWorkloadOnce(context, ref, {
    op: "restartPods",
    key,
    // A restart has no target state: any change in between is a conflict to decide on again.
    reached: () => false,
    ops: (w) => setAnnotationOps(w.spec?.template.metadata, { [RESTARTED_AT]: new Date(context.clock.now()).toISOString() }, "/spec/template/metadata"),
  });
}

/** Sets `resources.limits.memory` of the first container to `<limitMib>Mi`. */
export async function setMemoryLimit(context: AdapterContext, ref: WorkloadRef, limitMib: number, key: string): Promise<void> {
  const value = `${limitMib}Mi`;
  await changeWorkloadOnce(context, ref, {
    op: "setMemoryLimit",
    key,
    reached: (w) => memoryMib(w.spec?.template.spec?.containers[0]?.resources?.limits?.memory) === limitMib,
    ops: (w): JsonPatchOp[] => {
      const container = w.spec?.template.spec?.containers[0];
      if (container === undefined) throw new InvalidInputError(`${ref.kind} ${ref.namespace}/${ref.name} has no container to limit`);
      const base = "/spec/template/spec/containers/0/resources";
      if (container.resources === undefined) return [{ op: "add", path: base, value: { limits: { memory: value } } }];
      if (container.resources.limits === undefined) return [{ op: "add", path: `${base}/limits`, value: { memory: value } }];
      return [{ op: "add", path: `${base}/limits/memory`, value }];
    },
  });
}

/** Sends a JSON patch to the scale subresource. */
function patchScale(context: AdapterContext, ref: WorkloadRef, ops: JsonPatchOp[], dryRun: boolean): Promise<V1Scale> {
  const param = { name: ref.name, namespace: ref.namespace, body: ops, fieldManager: context.fieldManager, ...(dryRun ? { dryRun: "All" } : {}) };
  return ref.kind === "StatefulSet" ? context.apis.apps.patchNamespacedStatefulSetScale(param, JSON_PATCH) : context.apis.apps.patchNamespacedDeploymentScale(param, JSON_PATCH);
}

/**
 * `kubectl scale`, through the scale subresource (what an HPA and `kubectl scale` use, and what
 * RBAC grants separately). The subresource carries no annotations, so the action's record is a
 * second patch of the workload; a crash between the two leaves the replicas set and no record, and
 * the retry sets the same number again (scaling to a number is idempotent) and writes the record.
 */
export async function scale(context: AdapterContext, ref: WorkloadRef, replicas: number, key: string): Promise<void> {
  if (ref.kind === "DaemonSet") throw new InvalidInputError(`DaemonSet ${ref.namespace}/${ref.name} runs one pod per node and cannot be scaled`);
  // The Scale shares the workload's resourceVersion and replicas, so the workload read (which the
  // observer role allows) is the precondition; `get deployments/scale` is never needed.
  const read = await readWorkload(context.apis, ref);
  if (findActionRecord(read.metadata, key) !== undefined) return;
  if (replicaCounts(read).desired !== replicas) {
    const ops: JsonPatchOp[] = [...resourceVersionTest(read.metadata), { op: "replace", path: "/spec/replicas", value: replicas }];
    const request = workloadRequest(ref, "patch", "scale");
    const outcome = await dryRunThenApply(request, (dryRun) => patchScale(context, ref, ops, dryRun));
    if (!outcome.applied) {
      const fresh = await readWorkload(context.apis, ref);
      if (findActionRecord(fresh.metadata, key) === undefined && replicaCounts(fresh).desired !== replicas) throw new KubernetesConflictError(request, describeObjectChange(read, fresh));
    }
  }
  await recordOnWorkload(context, ref, "scale", key);
}
