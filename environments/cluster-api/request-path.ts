import type { ResourceType } from "./backend.js";
import { typeOfPlural } from "./resource-types.js";

/** A discovery document a path asks for. */
export type DiscoveryPath =
  { kind: "version" } | { kind: "coreVersions" } | { kind: "groups" } | { kind: "group"; group: string } | { kind: "resources"; group: string; version: string } | { kind: "openapi" };

/** A request for a resource: a collection (no name), one object, or one object's subresource. */
export interface ResourcePath {
  kind: "resource";
  type: ResourceType;
  /** The URL's namespace; undefined for cluster-scoped types and all-namespace lists. */
  namespace?: string;
  name?: string;
  subresource?: string;
}

/**
 * What a URL path names, under the API server's layout: `/api/v1/…` for the core group,
 * `/apis/{group}/{version}/…` for the others, `namespaces/{ns}/` before namespaced resources.
 * Undefined for a path the server does not serve (answered 404).
 */
export function parseRequestPath(pathname: string, types: readonly ResourceType[]): DiscoveryPath | ResourcePath | undefined {
  const segments = decodedSegments(pathname);
  if (segments === undefined) return undefined;
  const [root, ...rest] = segments;
  if (root === "version" && rest.length === 0) return { kind: "version" };
  if (root === "openapi") return { kind: "openapi" };
  if (root === "api") return rest.length === 0 ? { kind: "coreVersions" } : underGroupVersion(types, "", rest[0] ?? "", rest.slice(1));
  if (root !== "apis") return undefined;
  const [group, version, ...below] = rest;
  if (group === undefined) return { kind: "groups" };
  if (version === undefined) return { kind: "group", group };
  return underGroupVersion(types, group, version, below);
}

/** The path's non-empty segments, percent-decoded; undefined when an escape is malformed. */
function decodedSegments(pathname: string): string[] | undefined {
  try {
    return pathname
      .split("/")
      .filter((s) => s !== "")
      .map(decodeURIComponent);
  } catch {
    return undefined;
  }
}

function underGroupVersion(types: readonly ResourceType[], group: string, version: string, segments: readonly string[]): DiscoveryPath | ResourcePath | undefined {
  if (segments.length === 0) return { kind: "resources", group, version };
  const namespacedPlural = segments[0] === "namespaces" && segments.length >= 3 ? typeOfPlural(types, group, version, segments[2] ?? "") : undefined;
  if (namespacedPlural?.namespaced === true) return resourcePath(namespacedPlural, segments[1], segments.slice(3));
  const type = typeOfPlural(types, group, version, segments[0] ?? "");
  if (type === undefined) return undefined;
  return resourcePath(type, undefined, segments.slice(1));
}

function resourcePath(type: ResourceType, namespace: string | undefined, segments: readonly string[]): ResourcePath | undefined {
  const [name, subresource, ...extra] = segments;
  if (extra.length > 0) return undefined;
  // A named namespaced object needs its namespace in the URL; only a list may span namespaces.
  if (type.namespaced && namespace === undefined && name !== undefined) return undefined;
  if (subresource !== undefined && !(type.subresources ?? []).includes(subresource)) return undefined;
  return {
    kind: "resource",
    type,
    ...(namespace !== undefined ? { namespace } : {}),
    ...(name !== undefined ? { name } : {}),
    ...(subresource !== undefined ? { subresource } : {}),
  };
}
