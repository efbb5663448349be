import type { V1ObjectMeta } from "@kubernetes/client-node";

/**
 * What the simulated cluster's Kubernetes API server serves: a source of Kubernetes objects and
 * the one place that accepts changes to them. The in-memory backend (`memory-backend.ts`) holds
 * objects as given; the simulator's world implements the same contract with its controllers
 * behind it, so `kubectl` and `@kubernetes/client-node` see one API either way.
 */

/** A Kubernetes object as the API serves it (`apiVersion`, `kind`, `metadata`, then its fields). */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: V1ObjectMeta;
  [field: string]: unknown;
}

/** A resource type the API serves, as discovery lists it. */
export interface ResourceType {
  /** API group; "" for the core group. */
  group: string;
  version: string;
  kind: string;
  /** Lower-case plural used in URLs, e.g. "deployments". */
  plural: string;
  namespaced: boolean;
  shortNames?: string[];
  /** Subresources served, e.g. ["status", "scale"] or ["log"]. */
  subresources?: string[];
}

/** Options every write accepts. */
export interface WriteOptions {
  /** `dryRun=All`: validate and answer as if applied, change nothing. */
  dryRun: boolean;
}

/** A change the API server asks the backend to make, after it has checked RBAC and resourceVersion. */
export type ObjectChange = { verb: "create"; object: KubeObject } | { verb: "update"; object: KubeObject } | { verb: "delete"; type: ResourceType; namespace: string | undefined; name: string };

/** Options of a pod log request (`GET …/pods/{name}/log`). */
export interface PodLogOptions {
  container?: string;
  tailLines?: number;
  previous?: boolean;
  sinceSeconds?: number;
  timestamps?: boolean;
}

/** The objects and changes behind the simulated API server. */
export interface ClusterBackend {
  /** Every resource type this backend holds. */
  types(): ResourceType[];
  /** Every object of a type, in one namespace or (undefined) all of them. */
  list(type: ResourceType, namespace: string | undefined): KubeObject[];
  /** One object, or undefined. */
  get(type: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined;
  /**
   * Applies a change and returns the object as stored (for delete: as it was). Assigns uid,
   * resourceVersion, generation and creationTimestamp. Throws {@link KubeApiError} (404, 409
   * AlreadyExists, 422 Invalid) when the change cannot be made; with `dryRun` changes nothing.
   */
  apply(change: ObjectChange, options: WriteOptions): KubeObject;
  /** The text of a pod's log. Throws {@link KubeApiError} 404 for an unknown pod or container. */
  podLog(namespace: string, pod: string, options: PodLogOptions): string;
  /**
   * The latest resourceVersion assigned, which a List's metadata reports. Optional: without it
   * the server reports the highest resourceVersion among the listed objects.
   */
  latestResourceVersion?(): string;
  /**
   * The backend's metrics in the Prometheus text format 0.0.4. Optional: only a backend that has
   * them (the simulator) gets a `/metrics` route.
   */
  metrics?(): string;
}

/** The Content-Type of {@link ClusterBackend.metrics}: the Prometheus text exposition format 0.0.4. */
export const PROMETHEUS_TEXT_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** The reasons Kubernetes puts in a Status body. */
export type KubeStatusReason =
  "NotFound" | "AlreadyExists" | "Conflict" | "Invalid" | "Forbidden" | "BadRequest" | "MethodNotAllowed" | "UnsupportedMediaType" | "NotAcceptable" | "ServiceUnavailable" | "Timeout";

/** An API error the server answers as a Kubernetes `Status` object with this code and reason. */
export class KubeApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: KubeStatusReason,
    message: string,
    readonly details?: { name?: string; group?: string; kind?: string },
  ) {
    super(message);
    this.name = "KubeApiError";
  }
}
