import { KubeApiError, type ResourceType } from "./backend.js";
import { qualifiedPlural } from "./resource-types.js";

/** `deployments.apps "x" not found` (404 NotFound), as Kubernetes words it. */
export function notFound(type: ResourceType, name: string): KubeApiError {
  return new KubeApiError(404, "NotFound", `${qualifiedPlural(type)} "${name}" not found`, { name, group: type.group, kind: type.plural });
}

/** `deployments.apps "x" already exists` (409 AlreadyExists). */
export function alreadyExists(type: ResourceType, name: string): KubeApiError {
  return new KubeApiError(409, "AlreadyExists", `${qualifiedPlural(type)} "${name}" already exists`, { name, group: type.group, kind: type.plural });
}

/** Kubernetes' optimistic-concurrency 409 Conflict for a stale resourceVersion. */
export function conflict(type: ResourceType, name: string): KubeApiError {
  return new KubeApiError(
    409,
    "Conflict",
    `Operation cannot be fulfilled on ${qualifiedPlural(type)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    { name, group: type.group, kind: type.plural },
  );
}

/** `Deployment.apps "x" is invalid: field: problem` (422 Invalid). */
export function invalid(type: ResourceType, name: string, problem: string): KubeApiError {
  const kind = type.group === "" ? type.kind : `${type.kind}.${type.group}`;
  return new KubeApiError(422, "Invalid", `${kind} "${name}" is invalid: ${problem}`, { name, group: type.group, kind: type.kind });
}

/** A 400 BadRequest with the given message. */
export function badRequest(message: string): KubeApiError {
  return new KubeApiError(400, "BadRequest", message);
}

/** The Kubernetes `Status` body (`status: Failure`) the server answers an error with. */
export function failureStatus(error: KubeApiError): Record<string, unknown> {
  return {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message: error.message,
    reason: error.reason,
    ...(error.details !== undefined ? { details: error.details } : {}),
    code: error.code,
  };
}
