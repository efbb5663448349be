import type { V1Pod, V1ReplicaSet } from "@kubernetes/client-node";
import type { KubeApis } from "./apis.js";
import { call, callOrMissing } from "./api-errors.js";
import { mapToQuery } from "./selectors.js";
import type { WorkloadRef } from "./workload-ref.js";

/** The controller owner reference of an object, if any. */
function controllerOf(owners: Array<{ kind: string; name: string; controller?: boolean }> | undefined): { kind: string; name: string } | undefined {
  return owners?.find((o) => o.controller === true) ?? owners?.[0];
}

/** The ReplicaSets of a Deployment: those its controller owner reference names (matched by uid when known). */
export async function replicaSetsOf(apis: KubeApis, namespace: string, deployment: { name: string; uid?: string; labelSelector: string }): Promise<V1ReplicaSet[]> {
  const list = await call({ verb: "list", group: "apps", resource: "replicasets", namespace }, () => apis.apps.listNamespacedReplicaSet({ namespace, labelSelector: deployment.labelSelector }));
  return list.items.filter((rs) =>
    (rs.metadata?.ownerReferences ?? []).some((o) => o.kind === "Deployment" && o.name === deployment.name && (deployment.uid === undefined || o.uid === undefined || o.uid === deployment.uid)),
  );
}

/**
 * The workload that runs a pod, through its owner references: pod → ReplicaSet → Deployment, or
 * pod → StatefulSet / DaemonSet. Undefined for a bare pod or one owned by something else (a Job).
 */
export async function workloadOfPod(apis: KubeApis, pod: V1Pod): Promise<WorkloadRef | undefined> {
  const namespace = pod.metadata?.namespace ?? "default";
  const owner = controllerOf(pod.metadata?.ownerReferences);
  if (owner === undefined) return undefined;
  if (owner.kind === "StatefulSet" || owner.kind === "DaemonSet") return { namespace, kind: owner.kind, name: owner.name };
  if (owner.kind !== "ReplicaSet") return undefined;
  const rs = await callOrMissing({ verb: "get", group: "apps", resource: "replicasets", namespace, name: owner.name }, () => apis.apps.readNamespacedReplicaSet({ name: owner.name, namespace }));
  const deployment = controllerOf(rs?.metadata?.ownerReferences);
  return deployment?.kind === "Deployment" ? { namespace, kind: "Deployment", name: deployment.name } : undefined;
}

/** The pods scheduled on a node, in every namespace. */
export async function podsOnNode(apis: KubeApis, nodeName: string): Promise<V1Pod[]> {
  const list = await call({ verb: "list", group: "", resource: "pods" }, () => apis.core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${nodeName}` }));
  return list.items;
}

/** The pods a Service sends traffic to (its selector); none for a Service without a selector. */
export async function podsOfService(apis: KubeApis, namespace: string, serviceName: string): Promise<V1Pod[]> {
  const service = await call({ verb: "get", group: "", resource: "services", namespace, name: serviceName }, () => apis.core.readNamespacedService({ name: serviceName, namespace }));
  const selector = service.spec?.selector;
  if (selector === undefined || Object.keys(selector).length === 0) return [];
  const list = await call({ verb: "list", group: "", resource: "pods", namespace }, () => apis.core.listNamespacedPod({ namespace, labelSelector: mapToQuery(selector) }));
  return list.items;
}

/** The distinct workloads behind a set of pods (e.g. those on a node or behind a Service). */
export async function workloadsOfPods(apis: KubeApis, pods: V1Pod[]): Promise<WorkloadRef[]> {
  const refs = new Map<string, WorkloadRef>();
  for (const pod of pods) {
    const ref = await workloadOfPod(apis, pod);
    if (ref !== undefined) refs.set(`${ref.namespace}/${ref.kind}/${ref.name}`, ref);
  }
  return [...refs.values()];
}
