import { ApiException } from "@kubernetes/client-node";
import { ConflictError, ForbiddenError, InvalidInputError, NotFoundError, SutureError, UnavailableError } from "../../domain/errors.js";

/** One API request, named as RBAC names it: for messages that say exactly what was refused. */
export interface ApiRequest {
  verb: "get" | "list" | "create" | "patch" | "update" | "delete";
  /** API group; "" for the core group. */
  group: string;
  /** Lower-case plural, e.g. "deployments". */
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}

/** The Kubernetes `Status` an API error carried (code, reason, message), as far as it can be read. */
export interface ApiStatus {
  code: number;
  reason?: string;
  message: string;
}

/** `deployments.apps/scale`, `configmaps`: the resource as `kubectl auth can-i` and RBAC rules spell it. */
export function resourceLabel(request: ApiRequest): string {
  const base = request.group === "" ? request.resource : `${request.resource}.${request.group}`;
  return request.subresource === undefined ? base : `${base}/${request.subresource}`;
}

/** `patch deployments.apps "checkout" in namespace "prod"`. */
export function describeRequest(request: ApiRequest): string {
  const name = request.name === undefined ? "" : ` "${request.name}"`;
  const where = request.namespace === undefined ? "" : ` in namespace "${request.namespace}"`;
  return `${request.verb} ${resourceLabel(request)}${name}${where}`;
}

/**
 * Reason and message of a Status body. A real API server words some refusals generically ("the
 * server rejected our request due to an error in our request") and puts the detail, such as a
 * failed JSON Patch test, in `details.causes`: those are appended so nothing is lost.
 */
function parseBody(body: unknown): { reason?: string; message?: string } {
  let value = body;
  if (typeof body === "string") {
    try {
      value = JSON.parse(body) as unknown;
    } catch {
      return body.trim() === "" ? {} : { message: body.trim() };
    }
  }
  if (value === null || typeof value !== "object") return {};
  const record = value as { reason?: unknown; message?: unknown; details?: { causes?: unknown } };
  const causes = Array.isArray(record.details?.causes) ? (record.details.causes as Array<{ message?: unknown }>).flatMap((c) => (typeof c.message === "string" ? [c.message] : [])) : [];
  const base = typeof record.message === "string" ? record.message : undefined;
  const extra = causes.filter((c) => base === undefined || !base.includes(c));
  const message = [base, ...extra].filter((m) => m !== undefined).join(": ");
  return { ...(typeof record.reason === "string" ? { reason: record.reason } : {}), ...(message !== "" ? { message } : {}) };
}

/** The API status of an error the client threw, or undefined when it is not an API answer (a network error). */
export function apiStatusOf(error: unknown): ApiStatus | undefined {
  if (!(error instanceof ApiException)) return undefined;
  const exception = error as ApiException<unknown>;
  const parsed = parseBody(exception.body);
  return { code: exception.code, ...(parsed.reason !== undefined ? { reason: parsed.reason } : {}), message: parsed.message ?? exception.message };
}

/** True when the error is an API answer with this HTTP status. */
export function hasStatus(error: unknown, code: number): boolean {
  return apiStatusOf(error)?.code === code;
}

/** RBAC refused a request: names the verb, resource and namespace to add to Suture's role. */
export class KubernetesForbiddenError extends ForbiddenError {
  constructor(
    readonly request: ApiRequest,
    changedNothing = true,
  ) {
    const where = request.namespace === undefined ? " cluster-wide" : ` in namespace "${request.namespace}"`;
    super(
      `Kubernetes RBAC refused: cannot ${request.verb} ${resourceLabel(request)}${where} — add that verb to Suture's role (deploy/kubernetes/rbac.yaml)${changedNothing ? "; nothing was changed" : ""}`,
    );
    this.name = "KubernetesForbiddenError";
  }
}

/** The API server refused a write in its dry run (validation, admission, quota): nothing was sent for real. */
export class DryRunRejectedError extends InvalidInputError {
  constructor(
    readonly request: ApiRequest,
    readonly status: ApiStatus,
  ) {
    super(`${describeRequest(request)}: dry-run rejected by the API server: ${status.message}; nothing was changed`);
    this.name = "DryRunRejectedError";
  }
}

/** An object changed between Suture's read and its write, and no longer matches what the action expected. */
export class KubernetesConflictError extends ConflictError {
  constructor(request: ApiRequest, whatChanged: string) {
    super(`${describeRequest(request)}: the object changed since Suture read it (${whatChanged}); not retried blindly — nothing was changed, re-read and decide again`);
    this.name = "KubernetesConflictError";
  }
}

/** A create refused because an object of that name exists (409 AlreadyExists). */
export class AlreadyExistsError extends ConflictError {
  constructor(message: string) {
    super(message);
    this.name = "AlreadyExistsError";
  }
}

/** Any other API failure, with the request and the server's message. */
export function kubeRequestError(error: unknown, request: ApiRequest): Error {
  const status = apiStatusOf(error);
  if (status === undefined) {
    if (error instanceof SutureError) return error;
    // No answer at all (refused, reset, DNS): the API server is unavailable, not the request wrong.
    return new UnavailableError(`${describeRequest(request)} failed: ${(error as Error).message}`);
  }
  const message = `${describeRequest(request)}: the API server answered ${status.code}${status.reason !== undefined ? ` ${status.reason}` : ""}: ${status.message}`;
  if (status.code === 403) return new KubernetesForbiddenError(request);
  if (status.code === 404) return new NotFoundError(message);
  if (status.code === 409) return status.reason === "AlreadyExists" ? new AlreadyExistsError(message) : new ConflictError(message);
  if (status.code === 400 || status.code === 422) return new InvalidInputError(message);
  if (status.code >= 500 || status.code === 429) return new UnavailableError(message);
  return new Error(message);
}

/** Runs one API call; its failure becomes an error naming the request (403 → {@link KubernetesForbiddenError}). */
export async function call<T>(request: ApiRequest, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw kubeRequestError(error, request);
  }
}

/** Like {@link call}, but a 404 answers undefined. */
export async function callOrMissing<T>(request: ApiRequest, run: () => Promise<T>): Promise<T | undefined> {
  try {
    return await run();
  } catch (error) {
    if (hasStatus(error, 404)) return undefined;
    throw kubeRequestError(error, request);
  }
}
