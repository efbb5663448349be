import { KubeApiError, type ClusterBackend, type KubeObject, type ResourceType } from "./backend.js";
import { badRequest } from "./api-errors.js";
import { isRecord } from "./manifest.js";
import type { ResourcePath } from "./request-path.js";
import {
  bodyObject,
  checkedPutBody,
  checkResourceVersion,
  current,
  isDryRun,
  methodNotAllowed,
  parseBody,
  patchedDocument,
  withUrlName,
  write,
  type ApiResponse,
  type ResourceRequest,
} from "./request-objects.js";
import { apiVersionOf, qualifiedPlural } from "./resource-types.js";
import { matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector } from "./selectors.js";
import { podLogSubresource, scaleSubresource, statusSubresource } from "./subresources.js";
import { toTable, wantsTable, type IncludeObject } from "./table.js";

/** Answers a resource request against the backend; throws {@link KubeApiError} for anything refused. */
export function handleResourceRequest(backend: ClusterBackend, request: ResourceRequest): ApiResponse {
  const { path } = request;
  if (path.subresource === "log") return podLogSubresource(backend, request);
  if (path.subresource === "scale") return scaleSubresource(backend, request);
  if (path.subresource === "status") return statusSubresource(backend, request);
  switch (request.method) {
    case "GET":
      return path.name === undefined ? list(backend, request) : one(backend, request);
    case "POST":
      if (path.name !== undefined) throw methodNotAllowed(request);
      return { status: 201, json: write(backend, request, "create", objectForCreate(request)) };
    case "PUT":
      if (path.name === undefined) throw methodNotAllowed(request);
      return { status: 200, json: write(backend, request, "update", objectForUpdate(request, current(backend, path))) };
    case "PATCH":
      if (path.name === undefined) throw methodNotAllowed(request);
      return { status: 200, json: write(backend, request, "update", patched(request, current(backend, path))) };
    case "DELETE":
      return path.name === undefined ? deleteCollection(backend, request) : deleteOne(backend, request);
    default:
      throw methodNotAllowed(request);
  }
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

function hasStatusSubresource(type: ResourceType): boolean {
  return (type.subresources ?? []).includes("status");
}

/**
 * The object to create. For types with a status subresource the API server resets status on
 * create (a new Pod starts Pending): a client cannot create an object already "Ready".
 */
function objectForCreate(request: ResourceRequest): KubeObject {
  const object = bodyObject(request);
  if (!hasStatusSubresource(request.path.type)) return object;
  const rest = withoutStatus(object);
  return request.path.type.kind === "Pod" ? { ...rest, status: { phase: "Pending" } } : rest;
}

/** Writes to the main resource do not change status where a status subresource exists; that is the subresource's job. */
function withStoredStatus(type: ResourceType, stored: KubeObject, object: KubeObject): KubeObject {
  if (!hasStatusSubresource(type)) return object;
  const rest = withoutStatus(object);
  return stored["status"] === undefined ? rest : { ...rest, status: stored["status"] };
}

function withoutStatus(object: KubeObject): KubeObject {
  const copy = { ...object };
  delete copy["status"];
  return copy;
}

function objectForUpdate(request: ResourceRequest, stored: KubeObject): KubeObject {
  return withStoredStatus(request.path.type, stored, checkedPutBody(request, stored));
}

function patched(request: ResourceRequest, stored: KubeObject): KubeObject {
  const result = withUrlName(request.path, patchedDocument(request, stored, stored));
  if (result.metadata.namespace !== stored.metadata.namespace) throw badRequest("the namespace of the object cannot be changed by a patch");
  return withStoredStatus(request.path.type, stored, result);
}

/** DeleteOptions a DELETE may carry in its body (client-go puts `dryRun` there, not in the query). */
interface DeleteOptions {
  dryRun: boolean;
  preconditions: { uid?: unknown; resourceVersion?: unknown };
}

function deleteOptions(request: ResourceRequest): DeleteOptions {
  const body = request.body.trim() === "" ? {} : parseBody(request);
  if (!isRecord(body)) throw badRequest("the DeleteOptions body must be a JSON object");
  const dryRun = body["dryRun"];
  if (dryRun !== undefined && dryRun !== null && !(Array.isArray(dryRun) && dryRun.every((v) => v === "All"))) {
    throw badRequest(`Invalid dryRun value: ${JSON.stringify(dryRun)}: supported values: "All"`);
  }
  const bodyDryRun = Array.isArray(dryRun) && dryRun.length > 0;
  return { dryRun: isDryRun(request.query) || bodyDryRun, preconditions: isRecord(body["preconditions"]) ? body["preconditions"] : {} };
}

/** DeleteOptions.preconditions: the uid and resourceVersion, when given, must be the stored ones. */
function checkPreconditions(type: ResourceType, stored: KubeObject, preconditions: DeleteOptions["preconditions"]): void {
  const name = stored.metadata.name ?? "";
  const { uid, resourceVersion } = preconditions;
  if (typeof uid === "string" && uid !== stored.metadata.uid) {
    throw new KubeApiError(
      409,
      "Conflict",
      `Operation cannot be fulfilled on ${qualifiedPlural(type)} "${name}": Precondition failed: UID in precondition: ${uid}, UID in object meta: ${stored.metadata.uid ?? ""}`,
      {
        name,
        group: type.group,
        kind: type.plural,
      },
    );
  }
  if (typeof resourceVersion === "string") checkResourceVersion(type, stored, resourceVersion);
}

function deleteOne(backend: ClusterBackend, request: ResourceRequest): ApiResponse {
  const { type, namespace, name = "" } = request.path;
  const options = deleteOptions(request);
  checkPreconditions(type, current(backend, request.path), options.preconditions);
  const deleted = backend.apply({ verb: "delete", type, namespace, name }, { dryRun: options.dryRun });
  return { status: 200, json: { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", details: { name, group: type.group, kind: type.plural, uid: deleted.metadata.uid } } };
}

function deleteCollection(backend: ClusterBackend, request: ResourceRequest): ApiResponse {
  const { type, namespace } = request.path;
  const { dryRun } = deleteOptions(request);
  const items = selected(request, backend.list(type, namespace)).map((o) => backend.apply({ verb: "delete", type, namespace: o.metadata.namespace, name: o.metadata.name ?? "" }, { dryRun }));
  return { status: 200, json: { kind: `${type.kind}List`, apiVersion: apiVersionOf(type), metadata: { resourceVersion: latestResourceVersion(backend) }, items } };
}

/** `deployments.apps "x"` / `deployments.apps`: how messages name the object or collection of a request. */
export function describeTarget(path: ResourcePath): string {
  return path.name === undefined ? qualifiedPlural(path.type) : `${qualifiedPlural(path.type)} "${path.name}"`;
}
