import type { ResourceType } from "./backend.js";
import { apiVersionOf } from "./resource-types.js";

/**
 * Legacy JSON discovery (`/api`, `/apis`, `/api/v1`, `/apis/{group}/{version}`), what client-go
 * falls back to when the server answers plain `application/json` to its request for aggregated
 * (apidiscovery.k8s.io/v2) discovery. kubectl resolves kinds, plurals and short names from it.
 */

/** The version the simulated server reports at `/version` (kubectl warns beyond one minor of skew). */
export const SERVER_VERSION = {
  major: "1",
  minor: "32",
  gitVersion: "v1.32.0-suture",
  gitCommit: "0000000000000000000000000000000000000000",
  gitTreeState: "clean",
  buildDate: "2026-01-01T00:00:00Z",
  goVersion: "go1.23.0",
  compiler: "gc",
  platform: "linux/amd64",
} as const;

/** Resources in kubectl's "all" category (`kubectl get all`), as upstream registers them. */
const ALL_CATEGORY = new Set(["pods", "services", "deployments", "replicasets", "statefulsets", "daemonsets", "jobs", "horizontalpodautoscalers"]);

const READ_VERBS = ["get", "list"];
const WRITE_VERBS = ["create", "delete", "deletecollection", "patch", "update"];

/** `/api`: the core group's versions. */
export function coreApiVersions(serverAddress: string): Record<string, unknown> {
  return { kind: "APIVersions", versions: ["v1"], serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress }] };
}

/** One named API group as discovery lists it. */
interface GroupEntry {
  name: string;
  versions: Array<{ groupVersion: string; version: string }>;
  preferredVersion: { groupVersion: string; version: string } | undefined;
}

function groupEntries(types: readonly ResourceType[]): GroupEntry[] {
  const groups = new Map<string, Set<string>>();
  for (const type of types) if (type.group !== "") groups.set(type.group, (groups.get(type.group) ?? new Set()).add(type.version));
  return [...groups.entries()].map(([name, versions]) => {
    const list = [...versions].map((version) => ({ groupVersion: `${name}/${version}`, version }));
    return { name, versions: list, preferredVersion: list[0] };
  });
}

/** `/apis`: every named group with its versions (the core group is not listed here). */
export function apiGroupList(types: readonly ResourceType[]): Record<string, unknown> {
  return { kind: "APIGroupList", apiVersion: "v1", groups: groupEntries(types) };
}

/** `/apis/{group}`: one group's versions, or undefined if not served. */
export function apiGroup(types: readonly ResourceType[], group: string): Record<string, unknown> | undefined {
  const entry = groupEntries(types).find((g) => g.name === group);
  return entry === undefined ? undefined : { kind: "APIGroup", apiVersion: "v1", ...entry };
}

/** `/api/v1` or `/apis/{group}/{version}`: the resources (and subresources) of one group version, or undefined if not served. */
export function apiResourceList(types: readonly ResourceType[], group: string, version: string): Record<string, unknown> | undefined {
  const served = types.filter((t) => t.group === group && t.version === version);
  if (served.length === 0) return undefined;
  return {
    kind: "APIResourceList",
    apiVersion: "v1",
    groupVersion: apiVersionOf({ group, version }),
    resources: served.flatMap((type) => [resourceEntry(type), ...(type.subresources ?? []).map((sub) => subresourceEntry(type, sub))]),
  };
}

function resourceEntry(type: ResourceType): Record<string, unknown> {
  return {
    name: type.plural,
    singularName: type.kind.toLowerCase(),
    namespaced: type.namespaced,
    kind: type.kind,
    verbs: [...READ_VERBS, ...WRITE_VERBS],
    ...(type.shortNames !== undefined ? { shortNames: type.shortNames } : {}),
    ...(ALL_CATEGORY.has(type.plural) ? { categories: ["all"] } : {}),
  };
}

function subresourceEntry(type: ResourceType, subresource: string): Record<string, unknown> {
  const entry = { name: `${type.plural}/${subresource}`, singularName: "", namespaced: type.namespaced };
  switch (subresource) {
    case "scale":
      return { ...entry, group: "autoscaling", version: "v1", kind: "Scale", verbs: ["get", "patch", "update"] };
    case "log":
      return { ...entry, kind: "Pod", verbs: ["get"] };
    default:
      return { ...entry, kind: type.kind, verbs: ["get", "patch", "update"] };
  }
}
