import { PatchStrategy, setHeaderOptions, type V1DaemonSet, type V1Deployment, type V1StatefulSet } from "@kubernetes/client-node";
import { EnvironmentNotFoundError } from "../adapter.js";
import type { KubeApis } from "./apis.js";
import { callOrMissing, type ApiRequest } from "./api-errors.js";
import type { JsonPatchOp } from "./action-records.js";
import type { WorkloadKind, WorkloadRef } from "./workload-ref.js";

/** A Deployment, StatefulSet or DaemonSet: the parts the adapter reads are shared by all three. */
export type WorkloadObject = V1Deployment | V1StatefulSet | V1DaemonSet;

/** The RBAC resource of each workload kind. */
export const WORKLOAD_RESOURCES: Record<WorkloadKind, string> = { Deployment: "deployments", StatefulSet: "statefulsets", DaemonSet: "daemonsets" };

/** The JSON Patch content type every patch uses (what `kubectl patch --type=json` sends). */
export const JSON_PATCH = setHeaderOptions("Content-Type", PatchStrategy.JsonPatch);

/** The request naming a verb on a workload (and optionally a subresource), for RBAC messages. */
export function workloadRequest(ref: WorkloadRef, verb: ApiRequest["verb"], subresource?: string): ApiRequest {
  return { verb, group: "apps", resource: WORKLOAD_RESOURCES[ref.kind], ...(subresource !== undefined ? { subresource } : {}), namespace: ref.namespace, name: ref.name };
}

/**
 * Every workload of a kind in a namespace. A list answered 404 means the API server does not serve
 * that kind at all (a list in a namespace without any is an empty list), so there are none of it.
 */
export async function listWorkloads(apis: KubeApis, namespace: string, kind: WorkloadKind): Promise<WorkloadObject[]> {
  const request: ApiRequest = { verb: "list", group: "apps", resource: WORKLOAD_RESOURCES[kind], namespace };
  if (kind === "Deployment") return (await callOrMissing(request, () => apis.apps.listNamespacedDeployment({ namespace })))?.items ?? [];
  if (kind === "StatefulSet") return (await callOrMissing(request, () => apis.apps.listNamespacedStatefulSet({ namespace })))?.items ?? [];
  return (await callOrMissing(request, () => apis.apps.listNamespacedDaemonSet({ namespace })))?.items ?? [];
}

/** Reads a workload; an unknown one is an {@link EnvironmentNotFoundError} listing those of its kind. */
export async function readWorkload(apis: KubeApis, ref: WorkloadRef): Promise<WorkloadObject> {
  const found = await findWorkload(apis, ref);
  if (found !== undefined) return found;
  const { namespace, name } = ref;
  const known = (await listWorkloads(apis, namespace, ref.kind)).map((w) => w.metadata?.name ?? "");
  throw new EnvironmentNotFoundError(`${ref.kind} in namespace ${namespace}`, name, known);
}

/** The workload a ref names, or undefined when it does not exist (404). */
export async function findWorkload(apis: KubeApis, ref: WorkloadRef): Promise<WorkloadObject | undefined> {
  const request = workloadRequest(ref, "get");
  const { name, namespace } = ref;
  if (ref.kind === "Deployment") return callOrMissing(request, () => apis.apps.readNamespacedDeployment({ name, namespace }));
  if (ref.kind === "StatefulSet") return callOrMissing(request, () => apis.apps.readNamespacedStatefulSet({ name, namespace }));
  return callOrMissing(request, () => apis.apps.readNamespacedDaemonSet({ name, namespace }));
}

/** Sends a JSON patch to a workload (`dryRun` → `dryRun=All`). */
export async function patchWorkload(apis: KubeApis, ref: WorkloadRef, ops: JsonPatchOp[], dryRun: boolean, fieldManager: string): Promise<WorkloadObject> {
  const param = { name: ref.name, namespace: ref.namespace, body: ops, fieldManager, ...(dryRun ? { dryRun: "All" } : {}) };
  if (ref.kind === "Deployment") return apis.apps.patchNamespacedDeployment(param, JSON_PATCH);
  if (ref.kind === "StatefulSet") return apis.apps.patchNamespacedStatefulSet(param, JSON_PATCH);
  return apis.apps.patchNamespacedDaemonSet(param, JSON_PATCH);
}

/** Replicas the workload asks for (a DaemonSet: the nodes it should run on) and how many are ready. */
export function replicaCounts(workload: WorkloadObject): { desired: number; ready: number } {
  const spec: { replicas?: number } = workload.spec !== undefined && "replicas" in workload.spec ? workload.spec : {};
  const status: { readyReplicas?: number; numberReady?: number; desiredNumberScheduled?: number } = workload.status ?? {};
  // A Deployment or StatefulSet without spec.replicas runs one; a DaemonSet has none and counts nodes.
  const desired = "desiredNumberScheduled" in status ? (status.desiredNumberScheduled ?? 0) : (spec.replicas ?? 1);
  return { desired, ready: status.readyReplicas ?? status.numberReady ?? 0 };
}
