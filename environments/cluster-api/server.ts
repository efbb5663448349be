import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { KubeApiError, PROMETHEUS_TEXT_CONTENT_TYPE, type ClusterBackend } from "./backend.js";
import { failureStatus } from "./api-errors.js";
import { apiGroup, apiGroupList, apiResourceList, coreApiVersions, SERVER_VERSION } from "./discovery.js";
import { failWith, type ApiFaults } from "./faults.js";
import { kubeconfigFor, type KubeconfigOptions } from "./kubeconfig.js";
import { requestVerb, rulesAllow, type PolicyRule, type RbacRequest } from "./rbac.js";
import type { ApiResponse } from "./request-objects.js";
import { describeTarget, handleResourceRequest } from "./resource-handlers.js";
import { parseRequestPath, type DiscoveryPath, type ResourcePath } from "./request-path.js";

/** Options of {@link startClusterApiServer}. */
export interface ClusterApiServerOptions {
  backend: ClusterBackend;
  /** When set, every resource request must be allowed by one of `rules`, else 403 names `user`. */
  rbac?: { rules: readonly PolicyRule[]; user: string };
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** The clock Table AGE columns are computed against (default: the wall clock). */
  now?: () => Date;
  /** Runs before each request is served (a simulated world catches up with its clock here). */
  beforeRequest?: () => Promise<void>;
  /** Runs after a write (any method but GET) is served, before the answer is sent (a simulated world persists here). */
  afterWrite?: () => Promise<void>;
  /** Faults to inject into resource requests (chaos tests of Suture itself); none by default. */
  faults?: ApiFaults;
}

/** A running simulated API server. */
export interface ClusterApiServer {
  /** `http://host:port`, the server kubeconfigs point at. */
  url: string;
  close(): Promise<void>;
  /** A kubeconfig for kubectl or client-node pointing at this server. */
  kubeconfig(options?: KubeconfigOptions): string;
}

/** Largest request body accepted (an object or patch); Kubernetes' own limit is 3 MiB. */
const MAX_BODY_BYTES = 3 * 1024 * 1024;

/**
 * Starts a plain-HTTP server that speaks the Kubernetes API over `backend`: discovery, get/list
 * (label and field selectors, Tables for kubectl), create, update, the three patch types, delete,
 * `dryRun=All`, the scale/status/log subresources, Status errors and (optionally) RBAC; and, when
 * the backend has metrics, `GET /metrics` in the Prometheus text format (no auth, like a kubelet's).
 */
export async function startClusterApiServer(options: ClusterApiServerOptions): Promise<ClusterApiServer> {
  const host = options.host ?? "127.0.0.1";
  const now = options.now ?? (() => new Date());
  let url = "";
  const server = createServer((request, response) => {
    void Promise.resolve(options.beforeRequest?.())
      .then(() => serve(options, request, now(), url))
      .then(async (answer) => {
        // Persisted before the client hears of it, so a crash after the answer never loses the write.
        if (request.method !== "GET" && request.method !== "HEAD") await options.afterWrite?.();
        return answer;
      })
      .then((answer) => send(response, answer))
      .catch((error: unknown) => send(response, errorResponse(error)));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  url = `http://${host.includes(":") ? `[${host}]` : host}:${address.port}`;
  return {
    url,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error === undefined ? resolve() : reject(error)));
      }),
    kubeconfig: (kubeconfigOptions) => kubeconfigFor(url, kubeconfigOptions),
  };
}

async function serve(options: ClusterApiServerOptions, request: IncomingMessage, now: Date, url: string): Promise<ApiResponse> {
  // Split by hand: `new URL` would read a path starting with "//" as a host.
  const target = request.url ?? "/";
  const queryStart = target.indexOf("?");
  const pathname = queryStart < 0 ? target : target.slice(0, queryStart);
  const query = new URLSearchParams(queryStart < 0 ? "" : target.slice(queryStart + 1));
  const method = request.method ?? "GET";
  // Like a kubelet's or kube-state-metrics' endpoint, /metrics asks no credentials: Prometheus scrapes it as it is.
  if (pathname === "/metrics" && options.backend.metrics !== undefined) {
    if (method !== "GET" && method !== "HEAD") throw new KubeApiError(405, "MethodNotAllowed", `/metrics serves GET only, not ${method}`);
    return { status: 200, text: options.backend.metrics(), contentType: PROMETHEUS_TEXT_CONTENT_TYPE };
  }
  const types = options.backend.types();
  const path = parseRequestPath(pathname, types);
  if (path === undefined) throw new KubeApiError(404, "NotFound", "the server could not find the requested resource");
  if (path.kind !== "resource") return discovery(path, types, url);
  if (options.rbac !== undefined) authorize(options.rbac, path, method, query);
  const fault = options.faults?.take(method);
  if (fault !== undefined) await failWith(fault, describeTarget(path));
  const body = await readBody(request);
  return handleResourceRequest(options.backend, {
    method,
    path,
    query,
    accept: request.headers.accept,
    contentType: request.headers["content-type"],
    body,
    now,
  });
}

function discovery(path: DiscoveryPath, types: ReturnType<ClusterBackend["types"]>, url: string): ApiResponse {
  const found = discoveryDocument(path, types, url);
  if (found === undefined) throw new KubeApiError(404, "NotFound", "the server could not find the requested resource");
  return { status: 200, json: found };
}

function discoveryDocument(path: DiscoveryPath, types: ReturnType<ClusterBackend["types"]>, url: string): unknown {
  switch (path.kind) {
    case "version":
      return SERVER_VERSION;
    case "coreVersions":
      return coreApiVersions(new URL(url).host);
    case "groups":
      return apiGroupList(types);
    case "group":
      return apiGroup(types, path.group);
    case "resources":
      return apiResourceList(types, path.group, path.version);
    case "openapi":
      // kubectl's get, describe, logs, patch, scale and rollout work without OpenAPI; a 404
      // tells kubectl there is none (apply, explain and edit would need it).
      return undefined;
  }
}

/** Throws 403 Forbidden, worded as Kubernetes words it, unless a rule allows the request. */
function authorize(rbac: NonNullable<ClusterApiServerOptions["rbac"]>, path: ResourcePath, method: string, query: URLSearchParams): void {
  const watch = query.get("watch") === "true" || query.get("watch") === "1";
  const wanted: RbacRequest = {
    verb: requestVerb(method, { named: path.name !== undefined, watch }),
    apiGroup: path.type.group,
    resource: path.type.plural,
    ...(path.subresource !== undefined ? { subresource: path.subresource } : {}),
    ...(path.name !== undefined ? { name: path.name } : {}),
    ...(path.namespace !== undefined ? { namespace: path.namespace } : {}),
  };
  if (rulesAllow(rbac.rules, wanted)) return;
  const resource = wanted.subresource === undefined ? wanted.resource : `${wanted.resource}/${wanted.subresource}`;
  const scope = wanted.namespace === undefined ? "at the cluster scope" : `in the namespace "${wanted.namespace}"`;
  throw new KubeApiError(403, "Forbidden", `${describeTarget(path)} is forbidden: User "${rbac.user}" cannot ${wanted.verb} resource "${resource}" in API group "${wanted.apiGroup}" ${scope}`, {
    ...(path.name !== undefined ? { name: path.name } : {}),
    group: path.type.group,
    kind: path.type.plural,
  });
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new KubeApiError(413, "BadRequest", `the request body is larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function errorResponse(error: unknown): ApiResponse {
  if (error instanceof KubeApiError) return { status: error.code, json: failureStatus(error) };
  // Anything else is a bug in the server, not the client's input: say so as Kubernetes would.
  const message = error instanceof Error ? error.message : String(error);
  return { status: 500, json: { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: `Internal error occurred: ${message}`, reason: "InternalError", code: 500 } };
}

function send(response: ServerResponse, answer: ApiResponse): void {
  if (response.headersSent) return;
  if ("text" in answer) {
    response.writeHead(answer.status, { "content-type": answer.contentType ?? "text/plain; charset=utf-8" });
    response.end(answer.text);
    return;
  }
  response.writeHead(answer.status, { "content-type": "application/json" });
  response.end(JSON.stringify(answer.json));
}
