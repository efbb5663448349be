import type { ClusterBackend, KubeObject } from "./backend.js";
import { badRequest } from "./api-errors.js";
import { isRecord } from "./manifest.js";
import { checkedPutBody, checkResourceVersion, current, methodNotAllowed, parseBody, patchedDocument, write, type ApiResponse, type ResourceRequest } from "./request-objects.js";
import { scaleOf, withScale } from "./scale.js";

/** `…/{name}/scale`: the autoscaling/v1 Scale; PUT and PATCH change spec.replicas. */
export function scaleSubresource(backend: ClusterBackend, request: ResourceRequest): ApiResponse {
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

/** `…/{name}/status`: reads the object; PUT and PATCH change only its status. */
export function statusSubresource(backend: ClusterBackend, request: ResourceRequest): ApiResponse {
  const stored = current(backend, request.path);
  const withStatus = (source: KubeObject): KubeObject => ({ ...stored, status: source["status"] });
  switch (request.method) {
    case "GET":
      return { status: 200, json: stored };
    case "PUT":
      return { status: 200, json: write(backend, request, "update", withStatus(checkedPutBody(request, stored))) };
    case "PATCH":
      return { status: 200, json: write(backend, request, "update", withStatus(patchedDocument(request, stored, stored))) };
    default:
      throw methodNotAllowed(request);
  }
}

/** `pods/{name}/log`: the container's log as plain text (container, tailLines, previous, timestamps, sinceSeconds, limitBytes). */
export function podLogSubresource(backend: ClusterBackend, request: ResourceRequest): ApiResponse {
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
