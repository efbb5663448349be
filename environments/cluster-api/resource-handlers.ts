import { KubeApiError, type ClusterBackend, type KubeObject, type ResourceType } from "./backend.js";
import { badRequest, conflict, notFound } from "./api-errors.js";
import { isKubeObject, isRecord } from "./manifest.js";
import { PATCH_CONTENT_TYPES, applyPatch, type PatchContentType } from "./patch.js";
import type { ResourcePath } from "./request-path.js";
import { apiVersionOf, qualifiedPlural } from "./resource-types.js";
import { scaleOf, withScale } from "./scale.js";
import { matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector } from "./selectors.js";
import { toTable, wantsTable, type IncludeObject } from "./table.js";

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
export type ApiResponse = { status: number; json: unknown } | { status: number; text: string };

/** Answers a resource request against the backend; throws {@link KubeApiError} for anything refused. */
export function handleResourceRequest(backend: ClusterBackend, request: ResourceRequest): ApiResponse {
  const { path } = request;
  if (path.subresource === "log") return podLog(backend, request);
  if (path.subresource === "scale") return scale(backend, request);
  if (path.subresource === "status") return status(backend, request);
  switch (request.method) {
    case "GET":
      return path.name === undefined ? list(backend, request) : one(backend, request);
    case "POST":
      if (path.name !== undefined) throw methodNotAllowed(request);
      return { status: 201, json: write(backend, request, "create", objectForCreate(request)) };
    case "PUT":
      return { status: 200, json: write(backend, request, "update", objectForUpdate(request, current(backend, path))) };
    case "PATCH":
      return { status: 200, json: write(backend, request, "update", patched(request, current(backend, path))) };
    case "DELETE":
      return path.name === undefined ? deleteCollection(backend, request) : deleteOne(backend, request);
    default:
      throw methodNotAllowed(request);
  }
}

function methodNotAllowed(request: ResourceRequest): KubeApiError {
  return new KubeApiError(405, "MethodNotAllowed", `the server does not allow this method on the requested resource (${request.method})`);
}

/** `?dryRun=All` (the only value Kubernetes accepts): validate and answer, change nothing. */
function isDryRun(query: URLSearchParams): boolean {
  const values = query.getAll("dryRun");
  if (values.length === 0) return false;
  if (values.every((v) => v === "All")) return true;
  throw badRequest(`Invalid dryRun value: ${JSON.stringify(values)}: supported values: "All"`);
}

function current(backend: ClusterBackend, path: ResourcePath): KubeObject {
  const name = path.name ?? "";
  const object = backend.get(path.type, path.namespace, name);
  if (object === undefined) throw notFound(path.type, name);
  return object;
}

function write(backend: ClusterBackend, request: ResourceRequest, verb: "create" | "update", object: KubeObject): KubeObject {
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

/** The cluster's latest resourceVersion, as a List's metadata reports it. */
function latestResourceVersion(backend: ClusterBackend): string {
  let latest = 0;
  for (const type of backend.types()) for (const object of backend.list(type, undefined)) latest = Math.max(latest, Number(object.metadata.resourceVersion ?? 0));
  return String(latest);
}

function selected(request: ResourceRequest, objects: readonly KubeObject[]): KubeObject[] {
  const labels = parseLabelSelector(request.query.get("labelSelector") ?? "");
  const fields = parseFieldSelector(request.query.get("fieldSelector") ?? "", request.path.type.kind);
  return objects.filter((o) => matchesLabels(labels, o.metadata.labels) && matchesFields(fields, o));
}

function list(backend: ClusterBackend, request: ResourceRequest): ApiResponse {
  const watch = request.query.get("watch");
  if (watch === "true" || watch === "1") {
    throw new KubeApiError(405, "MethodNotAllowed", "watch is not supported by the simulated cluster API server; list instead");
  }
  const { type, namespace } = request.path;
  const items = selected(request, backend.list(type, namespace));
  const resourceVersion = latestResourceVersion(backend);
  if (wantsTable(request.accept)) return { status: 200, json: toTable(type.kind, items, resourceVersion, includeObject(request.query), request.now) };
  return { status: 200, json: { kind: `${type.kind}List`, apiVersion: apiVersionOf(type), metadata: { resourceVersion }, items } };
}

function one(backend: ClusterBackend, request: ResourceRequest): ApiResponse {
  const object = current(backend, request.path);
  if (wantsTable(request.accept)) return { status: 200, json: toTable(object.kind, [object], object.metadata.resourceVersion ?? "", includeObject(request.query), request.now) };
  return { status: 200, json: object };
}

function includeObject(query: URLSearchParams): IncludeObject {
  const value = query.get("includeObject");
  return value === "None" || value === "Object" ? value : "Metadata";
}

function parseBody(request: ResourceRequest): unknown {
  try {
    return JSON.parse(request.body) as unknown;
  } catch (error) {
    throw badRequest(`the request body is not valid JSON: ${(error as Error).message}`);
  }
}

function bodyObject(request: ResourceRequest): KubeObject {
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

function withUrlName(path: ResourcePath, object: KubeObject): KubeObject {
  if (object.metadata.name !== path.name) throw badRequest(`the name of the object (${object.metadata.name ?? ""}) does not match the name on the URL (${path.name ?? ""})`);
  return object;
}

function objectForCreate(request: ResourceRequest): KubeObject {
  return bodyObject(request);
}

/** Optimistic concurrency: a resourceVersion the client sends must be the stored one (an absent one is unconditional). */
function checkResourceVersion(type: ResourceType, stored: KubeObject, sent: string | undefined): void {
  if (sent !== undefined && sent !== "" && sent !== stored.metadata.resourceVersion) throw conflict(type, stored.metadata.name ?? "");
}

function objectForUpdate(request: ResourceRequest, stored: KubeObject): KubeObject {
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
function patchedDocument(request: ResourceRequest, stored: KubeObject, target: KubeObject): KubeObject {
  const result = applyPatch(patchContentType(request), target, parseBody(request));
  if (!isKubeObject(result)) throw badRequest("the patch leaves no valid object (apiVersion, kind and metadata are required)");
  if (result.apiVersion !== target.apiVersion || result.kind !== target.kind) throw badRequest(`a patch cannot change apiVersion or kind (${target.apiVersion} ${target.kind})`);
  checkResourceVersion(request.path.type, stored, result.metadata.resourceVersion === target.metadata.resourceVersion ? undefined : result.metadata.resourceVersion);
  return result;
}

function patched(request: ResourceRequest, stored: KubeObject): KubeObject {
  const result = withUrlName(request.path, patchedDocument(request, stored, stored));
  if (result.metadata.namespace !== stored.metadata.namespace) throw badRequest("the namespace of the object cannot be changed by a patch");
  return result;
}

function deleteOne(backend: ClusterBackend, request: ResourceRequest): ApiResponse {
  const { type, namespace, name = "" } = request.path;
  const deleted = backend.apply({ verb: "delete", type, namespace, name }, { dryRun: isDryRun(request.query) });
  return { status: 200, json: { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", details: { name, group: type.group, kind: type.plural, uid: deleted.metadata.uid } } };
}

function deleteCollection(backend: ClusterBackend, request: ResourceRequest): ApiResponse {
  const { type, namespace } = request.path;
  const dryRun = isDryRun(request.query);
  const items = selected(request, backend.list(type, namespace)).map((o) => backend.apply({ verb: "delete", type, namespace: o.metadata.namespace, name: o.metadata.name ?? "" }, { dryRun }));
  return { status: 200, json: { kind: `${type.kind}List`, apiVersion: apiVersionOf(type), metadata: { resourceVersion: latestResourceVersion(backend) }, items } };
}

function scale(backend: ClusterBackend, request: ResourceRequest): ApiResponse {
  const stored = current(backend, request.path);
  const storedScale = scaleOf(stored);
  switch (request.method) {
    case "GET":
      return { status: 200, json: storedScale };
    case "PUT": {
      const body = parseBody(request);
      const sent = isRecord(body) && isRecord(body["metadata"]) ? body["metadata"]["resourceVersion"] : undefined;
      checkResourceVersion(request.path.type, stored, typeof sent === "string" ? sent : undefined);
      return { status: 200, json: scaleOf(write(backend, request, "update", withScale(stored, body))) };
    }
    case "PATCH":
      return { status: 200, json: scaleOf(write(backend, request, "update", withScale(stored, patchedDocument(request, stored, storedScale)))) };
    default:
      throw methodNotAllowed(request);
  }
}

function status(backend: ClusterBackend, request: ResourceRequest): ApiResponse {
  const stored = current(backend, request.path);
  const withStatus = (source: KubeObject): KubeObject => ({ ...stored, status: source["status"] });
  switch (request.method) {
    case "GET":
      return { status: 200, json: stored };
    case "PUT":
      return { status: 200, json: write(backend, request, "update", withStatus(objectForUpdate(request, stored))) };
    case "PATCH":
      return { status: 200, json: write(backend, request, "update", withStatus(patchedDocument(request, stored, stored))) };
    default:
      throw methodNotAllowed(request);
  }
}

function podLog(backend: ClusterBackend, request: ResourceRequest): ApiResponse {
  if (request.method !== "GET") throw methodNotAllowed(request);
  const { query } = request;
  const container = query.get("container") ?? undefined;
  const tailLines = integerParam(query, "tailLines");
  const sinceSeconds = integerParam(query, "sinceSeconds");
  const limitBytes = integerParam(query, "limitBytes");
  const text = backend.podLog(request.path.namespace ?? "", request.path.name ?? "", {
    ...(container !== undefined ? { container } : {}),
    ...(tailLines !== undefined ? { tailLines } : {}),
    ...(sinceSeconds !== undefined ? { sinceSeconds } : {}),
    previous: query.get("previous") === "true",
    timestamps: query.get("timestamps") === "true",
  });
  return { status: 200, text: limitBytes === undefined ? text : Buffer.from(text).subarray(0, limitBytes).toString() };
}

function integerParam(query: URLSearchParams, name: string): number | undefined {
  const value = query.get(name);
  if (value === null || value === "") return undefined;
  if (!/^-?\d+$/.test(value)) throw badRequest(`${name}: invalid value ${JSON.stringify(value)}: must be an integer`);
  return Number(value);
}

/** `deployments.apps "x"` / `deployments.apps`: how messages name the object or collection of a request. */
export function describeTarget(path: ResourcePath): string {
  return path.name === undefined ? qualifiedPlural(path.type) : `${qualifiedPlural(path.type)} "${path.name}"`;
}
