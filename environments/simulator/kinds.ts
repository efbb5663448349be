import type { ResourceType } from "../cluster-api/backend.js";

/**
 * The resource types the simulated cluster serves. Defined here for the simulator alone; the API
 * server's shared list (`cluster-api/resource-types.ts`) will replace these when it lands.
 */

/** Namespaces. */
export const NAMESPACES: ResourceType = { group: "", version: "v1", kind: "Namespace", plural: "namespaces", namespaced: false, shortNames: ["ns"] };
/** Nodes. */
export const NODES: ResourceType = { group: "", version: "v1", kind: "Node", plural: "nodes", namespaced: false, shortNames: ["no"] };
/** Deployments. */
export const DEPLOYMENTS: ResourceType = { group: "apps", version: "v1", kind: "Deployment", plural: "deployments", namespaced: true, shortNames: ["deploy"], subresources: ["status", "scale"] };
/** ReplicaSets. */
export const REPLICA_SETS: ResourceType = { group: "apps", version: "v1", kind: "ReplicaSet", plural: "replicasets", namespaced: true, shortNames: ["rs"], subresources: ["status", "scale"] };
/** Pods. */
export const PODS: ResourceType = { group: "", version: "v1", kind: "Pod", plural: "pods", namespaced: true, shortNames: ["po"], subresources: ["status", "log"] };
/** Events (core/v1). */
export const EVENTS: ResourceType = { group: "", version: "v1", kind: "Event", plural: "events", namespaced: true, shortNames: ["ev"] };
/** Services. */
export const SERVICES: ResourceType = { group: "", version: "v1", kind: "Service", plural: "services", namespaced: true, shortNames: ["svc"], subresources: ["status"] };
/** Endpoints. */
export const ENDPOINTS: ResourceType = { group: "", version: "v1", kind: "Endpoints", plural: "endpoints", namespaced: true, shortNames: ["ep"] };
/** NetworkPolicies. */
export const NETWORK_POLICIES: ResourceType = { group: "networking.k8s.io", version: "v1", kind: "NetworkPolicy", plural: "networkpolicies", namespaced: true, shortNames: ["netpol"] };
/** Ingresses. */
export const INGRESSES: ResourceType = { group: "networking.k8s.io", version: "v1", kind: "Ingress", plural: "ingresses", namespaced: true, shortNames: ["ing"] };
/** ConfigMaps. */
export const CONFIG_MAPS: ResourceType = { group: "", version: "v1", kind: "ConfigMap", plural: "configmaps", namespaced: true, shortNames: ["cm"] };

/** Secrets (metadata and a content hash only). */
export const SECRETS: ResourceType = { group: "", version: "v1", kind: "Secret", plural: "secrets", namespaced: true };
/** ResourceQuotas. */
export const RESOURCE_QUOTAS: ResourceType = { group: "", version: "v1", kind: "ResourceQuota", plural: "resourcequotas", namespaced: true, shortNames: ["quota"], subresources: ["status"] };
/** PersistentVolumeClaims (a service's disk). */
export const PERSISTENT_VOLUME_CLAIMS: ResourceType = {
  group: "",
  version: "v1",
  kind: "PersistentVolumeClaim",
  plural: "persistentvolumeclaims",
  namespaced: true,
  shortNames: ["pvc"],
  subresources: ["status"],
};
/** HorizontalPodAutoscalers (autoscaling/v2). */
export const HPAS: ResourceType = {
  group: "autoscaling",
  version: "v2",
  kind: "HorizontalPodAutoscaler",
  plural: "horizontalpodautoscalers",
  namespaced: true,
  shortNames: ["hpa"],
  subresources: ["status"],
};
/** StatefulSets. */
export const STATEFUL_SETS: ResourceType = { group: "apps", version: "v1", kind: "StatefulSet", plural: "statefulsets", namespaced: true, shortNames: ["sts"], subresources: ["status", "scale"] };

/** Every resource type the simulated cluster holds, in discovery order. */
export const SIM_RESOURCE_TYPES: readonly ResourceType[] = [
  NAMESPACES,
  NODES,
  DEPLOYMENTS,
  REPLICA_SETS,
  PODS,
  EVENTS,
  SERVICES,
  ENDPOINTS,
  NETWORK_POLICIES,
  INGRESSES,
  CONFIG_MAPS,
  SECRETS,
  RESOURCE_QUOTAS,
  PERSISTENT_VOLUME_CLAIMS,
  HPAS,
  STATEFUL_SETS,
];

/** `apiVersion` of a resource type, e.g. "apps/v1" or "v1". */
export function apiVersionOf(type: ResourceType): string {
  return type.group === "" ? type.version : `${type.group}/${type.version}`;
}
