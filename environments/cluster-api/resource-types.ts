import type { ResourceType } from "./backend.js";

/**
 * The resource types the simulated cluster serves: what Suture reads and changes, what its RBAC
 * manifest names, and what `kubectl get` users ask for by short name. Group/version/plural and
 * short names follow the upstream API server, so kubectl's discovery-based lookups resolve.
 */
export const RESOURCE_TYPES: readonly ResourceType[] = [
  core("Namespace", "namespaces", false, ["ns"], ["status"]),
  core("Pod", "pods", true, ["po"], ["log", "status"]),
  core("Event", "events", true, ["ev"]),
  core("Service", "services", true, ["svc"], ["status"]),
  core("Endpoints", "endpoints", true, ["ep"]),
  core("ConfigMap", "configmaps", true, ["cm"]),
  core("Secret", "secrets", true),
  core("Node", "nodes", false, ["no"], ["status"]),
  core("ResourceQuota", "resourcequotas", true, ["quota"], ["status"]),
  core("PersistentVolumeClaim", "persistentvolumeclaims", true, ["pvc"], ["status"]),
  core("ServiceAccount", "serviceaccounts", true, ["sa"]),
  type("apps", "v1", "Deployment", "deployments", true, ["deploy"], ["scale", "status"]),
  type("apps", "v1", "ReplicaSet", "replicasets", true, ["rs"], ["scale", "status"]),
  type("apps", "v1", "StatefulSet", "statefulsets", true, ["sts"], ["scale", "status"]),
  type("apps", "v1", "DaemonSet", "daemonsets", true, ["ds"], ["status"]),
  type("autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", true, ["hpa"], ["status"]),
  type("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", true, ["netpol"]),
  type("networking.k8s.io", "v1", "Ingress", "ingresses", true, ["ing"]),
  type("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", true),
  type("batch", "v1", "Job", "jobs", true, [], ["status"]),
  type("rbac.authorization.k8s.io", "v1", "Role", "roles", true),
  type("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", false),
  type("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", true),
  type("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", false),
];

function type(group: string, version: string, kind: string, plural: string, namespaced: boolean, shortNames: string[] = [], subresources: string[] = []): ResourceType {
  return { group, version, kind, plural, namespaced, ...(shortNames.length > 0 ? { shortNames } : {}), ...(subresources.length > 0 ? { subresources } : {}) };
}

function core(kind: string, plural: string, namespaced: boolean, shortNames: string[] = [], subresources: string[] = []): ResourceType {
  return type("", "v1", kind, plural, namespaced, shortNames, subresources);
}

/** `apiVersion` as objects of a type carry it: "v1" for the core group, else "group/version". */
export function apiVersionOf(type: Pick<ResourceType, "group" | "version">): string {
  return type.group === "" ? type.version : `${type.group}/${type.version}`;
}

/** The name Kubernetes uses for a type in messages: "deployments.apps", "pods". */
export function qualifiedPlural(type: Pick<ResourceType, "group" | "plural">): string {
  return type.group === "" ? type.plural : `${type.plural}.${type.group}`;
}

/** The type of `kind` in `apiVersion` among `types`, or undefined. */
export function typeOfKind(types: readonly ResourceType[], apiVersion: string, kind: string): ResourceType | undefined {
  return types.find((t) => apiVersionOf(t) === apiVersion && t.kind === kind);
}

/** The type served at `/{prefix}/{group}/{version}/…/{plural}`, or undefined. */
export function typeOfPlural(types: readonly ResourceType[], group: string, version: string, plural: string): ResourceType | undefined {
  return types.find((t) => t.group === group && t.version === version && t.plural === plural);
}
