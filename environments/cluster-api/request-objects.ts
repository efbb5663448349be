import { KubeApiError, type ClusterBackend, type KubeObject, type ResourceType } from "./backend.js";
import { badRequest, conflict, notFound } from "./api-errors.js";
import { isKubeObject, isRecord } from "./manifest.js";
import { PATCH_CONTENT_TYPES, applyPatch, type PatchContentType } from "./patch.js";
import type { ResourcePath } from "./request-path.js";
import { apiVersionOf } from "./resource-types.js";

/*
 * From a request to the object to write: the request's shape, its body checked against the URL
 * (type, namespace, name), optimistic concurrency, patches, dry runs. Shared by the handlers of
 * resources and of their subresources.
 */

/** One request for a resource, as the server hands it to the verb handlers. */
export interface ResourceRequest {
  method: string;
  path: ResourcePath;
  query: URLSearchParams;
  accept: string | undefined;
  contentType: string | undefined;
  body: string;
  now: Date;
}

/** What the server writes back: JSON (an object, a List, a Table, a Status) or plain text (a log). */
export type ApiResponse = { status: number; json: unknown } | { status: number; text: string; contentType?: string };

/** 405 MethodNotAllowed for a method the resource does not serve. */
export function methodNotAllowed(request: ResourceRequest): KubeApiError {
  return new KubeApiError(405, "MethodNotAllowed", `the server does not allow this method on the requested resource (${request.method})`);
}

/** `?dryRun=All` (the only value Kubernetes accepts): validate and answer, change nothing. */
export function isDryRun(query: URLSearchParams): boolean {
  const values = query.getAll("dryRun");
  if (values.length === 0) return false;
  if (values.every((v) => v === "All")) return true;
  throw badRequest(`Invalid dryRun value: ${JSON.stringify(values)}: supported values: "All"`);
}

/** The object a request names; 404 NotFound, worded as Kubernetes words it, when missing. */
export function current(backend: ClusterBackend, path: ResourcePath): KubeObject {
  const name = path.name ?? "";
  const object = backend.get(path.type, path.namespace, name);
  if (object === undefined) throw notFound(path.type, name);
  return object;
}

/** Creates or updates through the backend, honouring `dryRun=All`. */
export function write(backend: ClusterBackend, request: ResourceRequest, verb: "create" | "update", object: KubeObject): KubeObject {
  return backend.apply({ verb, object: withoutNulls(object) }, { dryRun: isDryRun(request.query) });
}

/**
 * The object as the API server stores it after decoding into its typed struct: a `null` field
 * is the zero value and omitted. kubectl sends `creationTimestamp: null` inside pod templates
 * (rollout undo copies a ReplicaSet's template that way), which must not be stored as such.
 */
function withoutNulls<T>(value: T): T {
  if (Array.isArray(value)) return value.map(withoutNulls) as T;
  if (!isRecord(value)) return value;
  return Object.fromEntries(Object.entries(value).flatMap(([key, field]) => (field === null ? [] : [[key, withoutNulls(field)]]))) as T;
}

/** The request body as JSON; 400 BadRequest when it is not. */
export function parseBody(request: ResourceRequest): unknown {
  try {
    return JSON.parse(request.body) as unknown;
  } catch (error) {
    throw badRequest(`the request body is not valid JSON: ${(error as Error).message}`);
  }
}

/** The request body as an object of the URL's type, in the URL's namespace; 400 when it is not. */
export function bodyObject(request: ResourceRequest): KubeObject {
  const body = parseBody(request);
  if (!isRecord(body)) throw badRequest("the request body must be a JSON object");
  const { type } = request.path;
  const object = { ...body, apiVersion: body["apiVersion"] ?? apiVersionOf(type), kind: body["kind"] ?? type.kind, metadata: body["metadata"] ?? {} };
  if (!isKubeObject(object)) throw badRequest("the request body must be a Kubernetes object (apiVersion, kind, metadata)");
  if (object.apiVersion !== apiVersionOf(type) || object.kind !== type.kind) {
    throw badRequest(`the API version in the data (${object.apiVersion}) and kind (${object.kind}) do not match the resource (${apiVersionOf(type)} ${type.kind})`);
  }
  return withUrlNamespace(request.path, object);
}

/** The object in the URL's namespace; a different namespace in the body is refused, as Kubernetes does. */
function withUrlNamespace(path: ResourcePath, object: KubeObject): KubeObject {
  if (!path.type.namespaced || path.namespace === undefined) return object;
  const given = object.metadata.namespace;
  if (given !== undefined && given !== "" && given !== path.namespace) {
    throw badRequest("the namespace of the provided object does not match the namespace sent on the request");
  }
  return { ...object, metadata: { ...object.metadata, namespace: path.namespace } };
}

/** The object, when its name is the URL's; 400 otherwise, as Kubernetes answers. */
export function withUrlName(path: ResourcePath, object: KubeObject): KubeObject {
  if (object.metadata.name !== path.name) throw badRequest(`the name of the object (${object.metadata.name ?? ""}) does not match the name on the URL (${path.name ?? ""})`);
  return object;
}

/** Optimistic concurrency: a resourceVersion the client sends must be the stored one (an absent one is unconditional). */
export function checkResourceVersion(type: ResourceType, stored: KubeObject, sent: string | undefined): void {
  if (sent !== undefined && sent !== "" && sent !== stored.metadata.resourceVersion) throw conflict(type, stored.metadata.name ?? "");
}

/** A PUT body: the object named in the URL, at the stored resourceVersion (or unconditional). */
export function checkedPutBody(request: ResourceRequest, stored: KubeObject): KubeObject {
  const object = withUrlName(request.path, bodyObject(request));
  checkResourceVersion(request.path.type, stored, object.metadata.resourceVersion);
  return object;
}

function patchContentType(request: ResourceRequest): PatchContentType {
  const type = (request.contentType ?? "").split(";")[0]?.trim() ?? "";
  const known: readonly string[] = Object.values(PATCH_CONTENT_TYPES);
  if (known.includes(type)) return type as PatchContentType;
  throw new KubeApiError(415, "UnsupportedMediaType", `the body of the request was in an unknown format - accepted media types include: ${known.join(", ")}`);
}

/** A patch applied to `target`; a resourceVersion the patch sets is a precondition on `stored`. */
export function patchedDocument(request: ResourceRequest, stored: KubeObject, target: KubeObject): KubeObject {
  const result = applyPatch(patchContentType(request), target, parseBody(request));
  if (!isKubeObject(result)) throw badRequest("the patch leaves no valid object (apiVersion, kind and metadata are required)");
  if (result.apiVersion !== target.apiVersion || result.kind !== target.kind) throw badRequest(`a patch cannot change apiVersion or kind (${target.apiVersion} ${target.kind})`);
  checkResourceVersion(request.path.type, stored, result.metadata.resourceVersion === target.metadata.resourceVersion ? undefined : result.metadata.resourceVersion);
  return result;
}
